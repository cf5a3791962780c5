/** The members of a v1.1 payload, as signed. `ts` is Unix time in milliseconds. */
export interface SignedPayload {
    version: '1.1';
    kid: string;
    host: string;
    scheme: 'https';
    id: string;
    ts: number;
}
/** Why a payload text is not a v1.1 payload. */
export type PayloadProblem = 'malformed_payload' | 'duplicate_member' | 'unsupported_version' | 'invalid_kid';
export type PayloadRead = {
    ok: true;
    payload: SignedPayload;
} | {
    ok: false;
    reason: PayloadProblem;
    detail: string;
};
/** Longest kid the verifier looks up (the service allows 128 characters). */
export declare const MAX_KID_LENGTH = 128;
/** Reads `text` as a Trusted Server v1.1 payload: exactly its six members, of their types. */
export declare function readPayload(text: string): PayloadRead;
