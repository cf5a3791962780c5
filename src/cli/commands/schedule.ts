// `tsctl schedule run` and `tsctl schedule plan`: the rotation schedule of a deployment. Fastly has
// no cron, so `schedule run` is what a cron job or a scheduled CI workflow calls (hourly or daily:
// it is idempotent and catches up after missed runs). A run that meets an operator's change stops
// without writing and exits 3, like any other conflict.
import { KEYSET_OPTIONS } from '../args.js';
import { isRecord, type Answer } from '../client.js';
import type { Command } from '../command.js';
import { CliError, EXIT } from '../errors.js';
import { keysetsPath, requestChange } from '../keyring.js';
import { alignColumns, formatTime } from '../output.js';

/** `/admin/deployments/{d}/schedule[/run]`. */
function schedulePath(deployment: string, ...rest: string[]): string {
  return keysetsPath(deployment).replace(/\/keysets$/, ['/schedule', ...rest].join('/'));
}

interface Step {
  operation: string;
  keyset: string | null;
  at: string;
  reason: string;
  due?: boolean;
}

/** `schedule run`. */
export const scheduleRun: Command = {
  words: ['schedule', 'run'],
  summary: 'apply the transitions of the rotation schedule that are due now',
  description:
    'POST /admin/deployments/{d}/schedule/run (operator token). Prepares the next key, activates ' +
    'it once it has been published for the activation dwell, taints and removes retired keys, ' +
    'each through the keyring with If-Match, so an operator change in between stops the run ' +
    '(exit 3) and nothing of it is overwritten. Idempotent: run it hourly or daily from cron or ' +
    'a scheduled CI workflow; a late run catches up.',
  args: [],
  options: KEYSET_OPTIONS,
  examples: [
    'tsctl schedule run --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl schedule run --deployment-name partner-a --endpoint http://127.0.0.1:7676 -o json',
  ],
  async run(ctx) {
    const client = await ctx.admin();
    const answer = await requestChange(
      client,
      'POST',
      schedulePath(ctx.deployment, 'run'),
      ctx.deployment,
      { body: {} },
    );
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
      return EXIT.ok;
    }
    const body = record(answer);
    const applied = steps(body['applied']);
    const lines =
      applied.length === 0
        ? [`Nothing was due (keyring version ${String(body['keyring_version'])}).`]
        : applied.map(
            (s) => `Applied: ${s.operation}${s.keyset ? ` ${s.keyset}` : ''} (${s.reason})`,
          );
    const next = steps(body['plan']).find((s) => s.due !== true);
    if (next) lines.push(`Next: ${describeStep(next)}`);
    ctx.print.out(lines.join('\n'));
    return EXIT.ok;
  },
};

/** `schedule plan`. */
export const schedulePlan: Command = {
  words: ['schedule', 'plan'],
  summary: 'show every upcoming transition of the rotation schedule, with its time and reason',
  description:
    'GET /admin/deployments/{d}/schedule (viewer token). The first rows marked "due" are what ' +
    '`tsctl schedule run` would apply now; the rest is what later runs will do if nothing else ' +
    'changes (a key the schedule will prepare is shown as "(next key N)").',
  args: [],
  options: KEYSET_OPTIONS,
  examples: [
    'tsctl schedule plan --trust-domain keys.example.com --token-file ~/.tsctl-token',
    'tsctl schedule plan --endpoint http://127.0.0.1:7676 -o json',
  ],
  async run(ctx) {
    const client = await ctx.admin();
    const answer = await client.request('GET', schedulePath(ctx.deployment));
    if (ctx.output === 'json') {
      ctx.print.out(answer.text);
      return EXIT.ok;
    }
    const body = record(answer);
    const plan = steps(body['plan']);
    const header = `Deployment ${ctx.deployment} (keyring version ${String(body['keyring_version'])}): ${plan.length} upcoming transition(s)`;
    if (plan.length === 0) {
      ctx.print.out(header);
      return EXIT.ok;
    }
    const rows = [
      ['When', 'Operation', 'Keyset', 'Reason'],
      ...plan.map((s) => [
        s.due === true ? `due (since ${formatTime(s.at)})` : formatTime(s.at),
        s.operation,
        s.keyset ?? '(new key)',
        s.reason,
      ]),
    ];
    ctx.print.out(`${header}\n\n${alignColumns(rows)}`);
    return EXIT.ok;
  },
};

function describeStep(s: Step): string {
  return `${s.operation}${s.keyset ? ` ${s.keyset}` : ''} at ${formatTime(s.at)} (${s.reason})`;
}

function record(answer: Answer): Record<string, unknown> {
  if (!isRecord(answer.json)) {
    throw new CliError('unexpected_answer', 'the server sent an unreadable schedule', EXIT.failure);
  }
  return answer.json;
}

function steps(value: unknown): Step[] {
  return Array.isArray(value) ? (value.filter(isRecord) as unknown as Step[]) : [];
}
