// `tsctl doctor [--repair]`: every disagreement between a deployment's stores, its keyring and its
// intent journal (orphan private keys, published kids without one, a dead operation's lease, an
// operation whose outcome was unknown), with what fixes each. `--repair` fixes what is safe.
import { KEYSET_OPTIONS } from '../args.js';
import { isRecord } from '../client.js';
import type { Command } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { keysetsPath, requestChange } from '../keyring.js';

interface FindingView {
  code: string;
  severity: string;
  kid?: string;
  message: string;
  fix: string;
}

/** `doctor`. */
export const doctor: Command = {
  words: ['doctor'],
  summary: 'check a deployment for anything that needs a person; --repair fixes what is safe',
  description:
    'Reads the config items, the private key names and the lock record through the Fastly API ' +
    '(viewer token) and lists every disagreement with its fix. --repair (operator token) settles ' +
    'an interrupted or unknown-outcome operation once none of its writes can land any more, and ' +
    "clears a dead operation's lease; it never deletes a private key on a guess. Exit 0 when " +
    'healthy, 7 when something needs a person.',
  args: [],
  options: {
    ...KEYSET_OPTIONS,
    repair: { type: 'boolean', description: 'settle pending intents and clear stale leases first' },
    'dry-run': {
      type: 'boolean',
      description: 'with --repair: list what it would repair, writing nothing',
    },
  },
  examples: [
    'tsctl doctor --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl doctor --repair --endpoint http://127.0.0.1:7676 --token-file .fastly-local/admin-token',
  ],
  async run(ctx) {
    const dryRun = ctx.flags.boolean('dry-run');
    if (dryRun && !ctx.flags.boolean('repair')) {
      throw new UsageError('--dry-run goes with --repair (doctor alone writes nothing anyway)');
    }
    const client = await ctx.admin();
    const path = keysetsPath(ctx.deployment).replace(/\/keysets$/, '/doctor');
    const answer = ctx.flags.boolean('repair')
      ? await requestChange(
          client,
          'POST',
          dryRun ? `${path}?dry_run=true` : path,
          ctx.deployment,
          {
            body: {},
          },
        )
      : await client.request('GET', path);
    const report = answer.json;
    if (!isRecord(report) || !Array.isArray(report['findings'])) {
      throw new CliError(
        'unexpected_answer',
        'the server sent an unreadable doctor report',
        EXIT.failure,
      );
    }
    const healthy = report['healthy'] === true;
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
      return healthy ? EXIT.ok : EXIT.unhealthy;
    }
    const lines: string[] = [];
    const repaired = Array.isArray(report['repaired']) ? report['repaired'] : [];
    for (const r of repaired) lines.push(`Repaired: ${String(r)}`);
    const would = Array.isArray(report['would_repair']) ? report['would_repair'] : [];
    if (report['dry_run'] === true) {
      lines.push(
        would.length === 0
          ? 'Dry run: --repair would find nothing to repair; nothing was changed.'
          : 'Dry run: nothing was changed. --repair would repair:',
      );
      for (const r of would) lines.push(`  ${String(r)}`);
    }
    const findings = (report['findings'] as unknown[]).filter(isRecord) as unknown as FindingView[];
    const version = report['keyring_version'];
    lines.push(
      `Deployment ${ctx.deployment} (keyring version ${version === null ? 'none yet' : String(version)}): ${
        healthy
          ? 'healthy'
          : `${findings.filter((f) => f.severity !== 'info').length} finding(s) need a look`
      }`,
    );
    for (const f of findings) {
      lines.push(
        `  ${f.severity.toUpperCase().padEnd(7)} ${f.code}${f.kid ? ` ${f.kid}` : ''}: ${f.message}`,
      );
      lines.push(`          fix: ${f.fix}`);
    }
    ctx.print.out(lines.join('\n'));
    return healthy ? EXIT.ok : EXIT.unhealthy;
  },
};
