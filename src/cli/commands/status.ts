// `tsctl status`: what a monitor checks (the key-rotation guide's metrics): each key's age and
// time to expiry, the published count, the next scheduled transition, and the problems that need
// a person. Exit 7 when there is one, so a monitor can call it as is.
import { KEYSET_OPTIONS } from '../args.js';
import { isRecord } from '../client.js';
import type { Command } from '../command.js';
import { CliError, EXIT } from '../errors.js';
import { keysetsPath } from '../keyring.js';
import { alignColumns, formatTime } from '../output.js';

interface KeyView {
  id: string;
  state: string;
  age_days: number;
  expires_in_days: number;
  published_days: number | null;
}

/** `status`. */
export const status: Command = {
  words: ['status'],
  summary: 'key ages, expiry, the next transition and problems; exit 7 when a person is needed',
  description:
    'GET /admin/deployments/{d}/status (viewer token). Problems: an expired Active key, no ' +
    'successor prepared when one is due, a scheduled transition overdue by two days (the ' +
    'schedule is not running), and every doctor finding (stores that disagree with the ' +
    'keyring, an unfinished operation). Exit 0 when healthy, 7 when something needs a person.',
  args: [],
  options: KEYSET_OPTIONS,
  examples: [
    'tsctl status --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl status --deployment-name partner-a -o json',
  ],
  async run(ctx) {
    const client = await ctx.admin();
    const path = keysetsPath(ctx.deployment).replace(/\/keysets$/, '/status');
    const answer = await client.request('GET', path);
    const body = answer.json;
    if (!isRecord(body) || !Array.isArray(body['keys']) || !Array.isArray(body['problems'])) {
      throw new CliError('unexpected_answer', 'the server sent an unreadable status', EXIT.failure);
    }
    const healthy = body['healthy'] === true;
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
      return healthy ? EXIT.ok : EXIT.unhealthy;
    }
    const keys = (body['keys'] as unknown[]).filter(isRecord) as unknown as KeyView[];
    const problems = (body['problems'] as unknown[]).filter(isRecord);
    const lines = [
      `Deployment ${ctx.deployment} (keyring version ${String(body['keyring_version'])}): ${
        healthy ? 'healthy' : `${problems.length} problem(s) need a person`
      }`,
      `Active: ${typeof body['active_kid'] === 'string' ? body['active_kid'] : 'none'}; published keys: ${String(body['published_count'])}`,
    ];
    // The key log (docs/key-log.md): the root partners pin, and keys it does not endorse.
    const log = body['key_log'];
    if (isRecord(log)) {
      lines.push(
        log['present'] === true && typeof log['root_fingerprint'] === 'string'
          ? `Key log root: ${String(log['root_kid'])}, fingerprint ${log['root_fingerprint']} (partners pin this)`
          : 'Key log: none yet (started by the next prepare, rotate or adopt KID); every key is unendorsed',
      );
      const unendorsed = Array.isArray(log['unendorsed_kids']) ? log['unendorsed_kids'] : [];
      if (log['present'] === true && unendorsed.length > 0) {
        lines.push(`Unendorsed keys: ${unendorsed.join(', ')}`);
      }
    }
    const next = body['next_transition'];
    if (isRecord(next)) {
      lines.push(
        `Next transition: ${String(next['operation'])}${typeof next['keyset'] === 'string' ? ` ${next['keyset']}` : ''} at ${formatTime(String(next['at']))}`,
      );
    }
    lines.push('');
    lines.push(
      alignColumns([
        ['Keyset ID', 'State', 'Age (days)', 'Expires in (days)', 'Published (days)'],
        ...keys.map((k) => [
          k.id,
          k.state,
          String(k.age_days),
          String(k.expires_in_days),
          k.published_days === null ? '-' : String(k.published_days),
        ]),
      ]),
    );
    for (const p of problems) {
      lines.push(
        `${String(p['severity']).toUpperCase().padEnd(7)} ${String(p['code'])}${typeof p['kid'] === 'string' ? ` ${p['kid']}` : ''}: ${String(p['message'])}`,
      );
    }
    ctx.print.out(lines.join('\n'));
    return healthy ? EXIT.ok : EXIT.unhealthy;
  },
};
