/** Padded standard base64 → bytes, or null unless the text is the one canonical spelling. */
export declare function fromBase64(text: string): Uint8Array | null;
/** Unpadded base64url → bytes, or null unless the text is the one canonical spelling. */
export declare function fromBase64Url(text: string): Uint8Array | null;
