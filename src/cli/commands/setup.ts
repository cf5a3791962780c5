// `tsctl setup`: from nothing (or from Trusted Server's stores) to a Fastly service with the five
// stores linked, their ids in trusted-server.toml, the API token and a first operator token
// uploaded, and a first key. It talks to the Fastly management API itself (src/fastly-api), with
// FASTLY_API_TOKEN and FASTLY_API_ENDPOINT, and is idempotent: every step first looks, and only
// what is missing is written, so a second run writes nothing and a failed run is completed by the
// next one. docs/deploying.md describes it step by step; docs/architecture.md ("tsctl setup") why.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parse } from 'smol-toml';
import { newTokenSecret, tokenRecord } from '../../core/auth/admin-token.js';
import { API_KEY_SECRET, DEFAULT_DEPLOYMENT, resolveDeployment } from '../../core/deployments.js';
import { TskError } from '../../core/errors.js';
import { openKeyring } from '../../core/keyring/open-deployment.js';
import { activeKeyset } from '../../core/keyring/document.js';
import { checkSettings, type Settings } from '../../core/settings.js';
import { isPlaceholderDomain } from '../../core/settings-production.js';
import {
  FastlyApi,
  FastlyServicesApi,
  keyStoreApi,
  type BackendSpec,
  leaseStoreApi,
  type ServiceInfo,
  type ServiceVersion,
} from '../../fastly-api/index.js';
import { TIMEOUT_OPTION } from '../args.js';
import type { Command, CommandContext } from '../command.js';
import { requireDefaultDeployment } from '../context.js';
import { CliError, EXIT, UsageError, exitCodeFor, type ExitCode } from '../errors.js';
import storeTable from '../setup-stores.json' with { type: 'json' };
import { setStringValues } from '../toml-values.js';

/** One store of the table: its API kind, its name (and link name), its settings key. */
export interface StoreSpec {
  kind: 'config-store' | 'secret-store' | 'kv-store';
  name: string;
  setting: string | null;
}

/** The stores, shared with scripts/ensure-stores.mjs. */
export const SETUP_STORES: readonly StoreSpec[] = storeTable.stores as StoreSpec[];

/** Where the management API is unless FASTLY_API_ENDPOINT says otherwise. */
export const DEFAULT_FASTLY_ENDPOINT = 'https://api.fastly.com';

/** The section of trusted-server.toml the store ids are written in. */
const SECTION = 'request_signing';

/** One line of what setup did (or, with --dry-run, would do). */
export interface SetupStep {
  /** found, created, linked, unchanged, written, uploaded, skipped (exists), ... */
  result: string;
  /** What it is about, e.g. `config-store jwks_store`. */
  step: string;
  detail?: string;
}

/** Results that wrote nothing. */
const READ_ONLY = new Set(['found', 'unchanged', 'skipped (exists)', 'skipped', 'not activated']);

/** `setup`. */
export const setup: Command = {
  words: ['setup'],
  summary: 'provision a Fastly service: stores, links, trusted-server.toml, tokens, first key',
  description:
    "Idempotent: finds or creates the five stores by name (Trusted Server's jwks_store and " +
    'signing_keys are adopted as they are), finds or creates the Compute service and links each ' +
    'store to it (on a clone when the version is locked), writes the store ids into ' +
    'trusted-server.toml (only those values change), uploads the Fastly API token to ' +
    'api-keys/api_key when absent and a first operator token to admin_tokens when it is empty ' +
    '(printed once), and creates the first key when the deployment has none. Re-running writes ' +
    'nothing. The Fastly API token comes from FASTLY_API_TOKEN (never a flag, never printed), the ' +
    'API from FASTLY_API_ENDPOINT (default https://api.fastly.com; the local API of `npm start` ' +
    'for a rehearsal, with FASTLY_USE_API_SIGNING_KEY=1 so secrets are sealed to its key). The ' +
    'version setup edits is not activated unless --activate: `fastly compute publish` uploads ' +
    'the package to it and activates it.',
  args: [],
  options: {
    'service-name': {
      type: 'string',
      value: 'NAME',
      description: 'the service to link the stores to; a Compute service is created if none has it',
    },
    'service-id': {
      type: 'string',
      value: 'ID',
      description: 'the service to link the stores to, by id (it must exist)',
    },
    config: {
      type: 'string',
      value: 'PATH',
      description: 'the settings file to write the store ids into (default ./trusted-server.toml)',
    },
    'fastly-toml': {
      type: 'string',
      value: 'PATH',
      description:
        'the package manifest to write service_id into, for compute publish (default ./fastly.toml)',
    },
    'dry-run': {
      type: 'boolean',
      description: 'print the plan and write nothing (no store, link, file, token or key)',
    },
    activate: {
      type: 'boolean',
      description: 'activate the version the links are on (default: leave it to compute publish)',
    },
    'publisher-domain': {
      type: 'string',
      value: 'NAME',
      description:
        "your publisher's domain, written into [publisher] domain (the host bound into signed requests); a real domain already there is never replaced",
    },
    'replace-api-token': {
      type: 'boolean',
      description: 'overwrite api-keys/api_key with FASTLY_API_TOKEN even if it exists',
    },
    ...TIMEOUT_OPTION,
  },
  examples: [
    'FASTLY_API_TOKEN=... tsctl setup --service-name my-publisher-keys --dry-run',
    'FASTLY_API_TOKEN=... tsctl setup --service-name my-publisher-keys --publisher-domain www.publisher.com',
    'FASTLY_API_TOKEN=... tsctl setup --service-id SU1Z0isxPaozGVKXdv0eY -o json',
  ],
  run: (ctx) => new Setup(ctx).run(),
};

/** The operator token setup created, if it did. */
interface CreatedToken {
  id: string;
  role: 'operator';
  token: string;
}

class Setup {
  readonly #ctx: CommandContext;
  readonly #steps: SetupStep[] = [];
  #operatorToken: CreatedToken | undefined;

  constructor(ctx: CommandContext) {
    this.#ctx = ctx;
  }

  async run(): Promise<ExitCode> {
    const ctx = this.#ctx;
    requireDefaultDeployment(
      ctx,
      'tsctl setup',
      'provision its stores by hand (docs/deploying.md, "By hand") and declare them under [deployments.NAME]',
    );
    const env = ctx.io.env;
    const token = env['FASTLY_API_TOKEN']?.trim() ?? '';
    if (token === '') {
      throw new UsageError(
        'set FASTLY_API_TOKEN to a Fastly API token that may create stores and services (it is read only from the environment)',
      );
    }
    ctx.print.redact(token);
    const endpoint = env['FASTLY_API_ENDPOINT']?.trim() || DEFAULT_FASTLY_ENDPOINT;
    try {
      const url = new URL(endpoint);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    } catch {
      throw new UsageError(`FASTLY_API_ENDPOINT must be an http(s) URL, not "${endpoint}"`);
    }
    const serviceId = ctx.flags.string('service-id');
    const serviceName = ctx.flags.string('service-name');
    if ((serviceId === undefined) === (serviceName === undefined)) {
      throw new UsageError('name the service once: --service-name NAME or --service-id ID');
    }
    if (serviceId === '' || serviceName === '') {
      throw new UsageError('--service-name and --service-id must not be empty');
    }
    const configPath = ctx.flags.string('config') ?? 'trusted-server.toml';
    const dryRun = ctx.flags.boolean('dry-run');
    const publisherDomain = hostName(ctx.flags.string('publisher-domain'));

    // The settings file is checked before anything is written anywhere: a file setup cannot
    // complete must not leave half a deployment behind.
    const original = await readConfig(configPath);
    const initial = checkConfig(original, configPath);
    const probe = setStringValues(original, SECTION, placeholderValues());
    const absent = probe.missing.filter((k) => k !== 'lock_store_id');
    if (absent.length > 0) {
      throw new CliError(
        'config_incomplete',
        `${configPath} has no ${absent.join(', ')} under [${SECTION}]; add ${absent.map((k) => `${k} = ""`).join(' and ')} there and run setup again (it fills in the ids)`,
        EXIT.usage,
      );
    }

    if (publisherDomain !== undefined) checkPublisherDomain(original, configPath, publisherDomain);

    const manifestPath = ctx.flags.string('fastly-toml') ?? 'fastly.toml';
    const manifest = await readManifest(manifestPath);

    try {
      const connection = {
        endpoint,
        token,
        fetch: ctx.io.fetch ?? fetch,
        timeoutMs: ctx.timeoutMs,
      };
      // Trust decision, as the Fastly CLI's: only when asked, seal secrets to the key the API
      // itself reports (the local API signs its client keys with its own key, not Fastly's).
      const secretSigningKey =
        env['FASTLY_USE_API_SIGNING_KEY'] === '1'
          ? await this.#call('read the secret-store signing key', () =>
              new FastlyApi(connection).getSecretSigningKey(),
            )
          : undefined;
      const options = { ...connection, ...(secretSigningKey ? { secretSigningKey } : {}) };
      const api = new FastlyServicesApi(options);

      // Looked up first (a read), so a service_id clash stops setup before it writes anything.
      const found = await this.#findService(api, { serviceId, serviceName });
      checkManifestService(manifest, manifestPath, found, serviceName);
      const ids = await this.#stores(api, dryRun);
      const service = await this.#service(api, found, serviceName ?? '', dryRun);
      const version = await this.#links(api, service, ids, apiBackend(initial), dryRun);
      const settings = await this.#config(configPath, original, ids, publisherDomain, dryRun);
      await this.#manifest(manifestPath, manifest, service, dryRun);
      await this.#apiToken(api, ids, token, dryRun);
      await this.#adminToken(api, ids, dryRun);
      await this.#firstKey(options, settings, ids, dryRun);
      // Last: with --activate, the version serves only once its stores hold a token and a key.
      const activateCommand = await this.#activate(api, service, version, dryRun);
      const domain = publisherDomain ?? settings.publisher.domain;
      return this.#finish({ dryRun, service, version, configPath, activateCommand, domain });
    } catch (err) {
      throw this.#failure(err);
    }
  }

  /** Step 1: the five stores, found by name or created. */
  async #stores(api: FastlyApi, dryRun: boolean): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const store of SETUP_STORES) {
      const label = `${store.kind} ${store.name}`;
      const found = await this.#call(`list ${store.kind}s`, () => findStore(api, store));
      if (found !== undefined) {
        ids.set(store.name, found);
        this.#step('found', label, found);
      } else if (dryRun) {
        this.#step('would create', label);
      } else {
        const created = await this.#call(`create ${label}`, () => createStore(api, store));
        ids.set(store.name, created);
        this.#step('created', label, created);
      }
    }
    return ids;
  }

  /** The service, by id (it must exist) or by name (null when none has it); reads only. */
  async #findService(
    api: FastlyServicesApi,
    which: { serviceId: string | undefined; serviceName: string | undefined },
  ): Promise<ServiceInfo | null> {
    if (which.serviceId === undefined) {
      const name = which.serviceName ?? '';
      return this.#call(`find service ${name}`, () => api.findServiceByName(name));
    }
    const id = which.serviceId;
    const service = await this.#call(`read service ${id}`, () => api.getService(id));
    if (!service) {
      throw new CliError(
        'service_not_found',
        `no service has id ${id}`,
        EXIT.refused,
        'check the id (`fastly service list`), or pass --service-name NAME to find or create the service by name',
      );
    }
    return service;
  }

  /** Step 2: the service found, or a Compute service created under `name`. */
  async #service(
    api: FastlyServicesApi,
    found: ServiceInfo | null,
    name: string,
    dryRun: boolean,
  ): Promise<ServiceInfo | undefined> {
    if (!found) {
      if (dryRun) {
        this.#step('would create', `service ${name}`, 'a Compute (wasm) service');
        return undefined;
      }
      const created = await this.#call(`create service ${name}`, () =>
        api.createService(name, 'wasm'),
      );
      this.#step('created', `service ${created.name}`, created.id);
      return created;
    }
    if (found.type !== '' && found.type !== 'wasm') {
      throw new CliError(
        'service_not_compute',
        `service ${found.name} (${found.id}) is a ${found.type} service; this app runs on Compute`,
        EXIT.refused,
        'name a Compute service, or a new name for setup to create one',
      );
    }
    this.#step('found', `service ${found.name}`, found.id);
    return found;
  }

  /**
   * Step 3: each store linked under its name on the service's latest version, and the backend
   * the app reaches the management API through (`fastly_api`), cloned first when that version is
   * locked or active (as the Fastly CLI's --autoclone). The latest version, not the active one,
   * so that a re-run finds the draft an earlier run made. Answers that version.
   */
  async #links(
    api: FastlyServicesApi,
    service: ServiceInfo | undefined,
    ids: ReadonlyMap<string, string>,
    backend: BackendSpec,
    dryRun: boolean,
  ): Promise<ServiceVersion | undefined> {
    const latest = service?.versions.at(-1);
    const links =
      service && latest
        ? await this.#call(`list the links of version ${latest.number}`, () =>
            api.listResourceLinks(service.id, latest.number),
          )
        : [];
    const where = latest ? `version ${latest.number}` : 'the new service';
    const needed: StoreSpec[] = [];
    for (const store of SETUP_STORES) {
      const id = ids.get(store.name);
      const byName = links.find((l) => l.name === store.name);
      const byStore = id === undefined ? undefined : links.find((l) => l.resourceId === id);
      if (byName && byName.resourceId === id) {
        this.#step('unchanged', `link ${store.name}`, `${id} on ${where}`);
      } else if (byName) {
        throw new CliError(
          'link_name_clash',
          `${where} of service ${service?.name ?? ''} already links another store (${byName.resourceId}) as ${store.name}, not ${store.kind} ${store.name}${id ? ` (${id})` : ''}; setup replaces no link`,
          EXIT.conflict,
          `look with \`fastly service resource-link list --service-id ${service?.id ?? ''} --version ${latest?.number ?? ''}\`; delete that link if it is not needed (or use another service), then re-run`,
        );
      } else if (byStore) {
        throw new CliError(
          'link_name_clash',
          `${where} links ${store.kind} ${store.name} (${id}) as "${byStore.name}", but the edge opens it as ${store.name}; setup replaces no link`,
          EXIT.conflict,
          `rename the link to ${store.name} (\`fastly service resource-link update\`), then re-run`,
        );
      } else {
        needed.push(store);
      }
    }
    const backends =
      service && latest
        ? await this.#call(`list the backends of version ${latest.number}`, () =>
            api.listBackends(service.id, latest.number),
          )
        : [];
    const describe = (b: BackendSpec): string =>
      `${b.useSsl ? 'https' : 'http'}://${b.address}:${b.port}`;
    const present = backends.find((b) => b.name === backend.name);
    if (present) {
      if (describe(present) !== describe(backend)) {
        throw new CliError(
          'backend_clash',
          `${where} already has a backend ${backend.name} to ${describe(present)}, but [fastly_api] endpoint says ${describe(backend)}; setup replaces no backend`,
          EXIT.conflict,
          `fix the backend (\`fastly service backend update\`) or fastly_api.endpoint, then re-run`,
        );
      }
      this.#step('unchanged', `backend ${backend.name}`, `${describe(backend)} on ${where}`);
    }
    if (needed.length === 0 && present) return latest;
    let target = latest;
    if (service && latest && (latest.locked || latest.active)) {
      if (dryRun) {
        this.#step('would create', `version ${latest.number + 1}`, `a clone of ${where}`);
      } else {
        target = await this.#call(`clone version ${latest.number}`, () =>
          api.cloneVersion(service.id, latest.number),
        );
        this.#step('created', `version ${target.number}`, `a clone of ${where}`);
      }
    }
    for (const store of needed) {
      const id = ids.get(store.name);
      if (dryRun || !service || !target || id === undefined) {
        this.#step('would link', `link ${store.name}`, `${store.kind} ${store.name}`);
        continue;
      }
      const number = target.number;
      await this.#call(`link ${store.name} to version ${number}`, () =>
        api.createResourceLink(service.id, number, id, store.name),
      );
      this.#step('linked', `link ${store.name}`, `${id} on version ${number}`);
    }
    if (!present) {
      if (dryRun || !service || !target) {
        this.#step('would create', `backend ${backend.name}`, describe(backend));
      } else {
        const number = target.number;
        await this.#call(`add backend ${backend.name} to version ${number}`, () =>
          api.createBackend(service.id, number, backend),
        );
        this.#step(
          'created',
          `backend ${backend.name}`,
          `${describe(backend)} on version ${number}`,
        );
      }
    }
    return target;
  }

  /**
   * Activation: only with --activate, so setup never changes what serves traffic unasked. With
   * no active version, `fastly compute publish` (which without --version takes the active
   * version, else the latest) uploads the package to the version setup linked and activates it.
   * With an active version, publish would build on that one and leave the links out: the linked
   * draft (a clone of the active version, with its package) is activated with the command this
   * prints, or published to with --version.
   */
  async #activate(
    api: FastlyServicesApi,
    service: ServiceInfo | undefined,
    version: ServiceVersion | undefined,
    dryRun: boolean,
  ): Promise<string | null> {
    if (!service || !version) {
      if (this.#ctx.flags.boolean('activate')) this.#step('would activate', 'the new version');
      return null;
    }
    if (version.active) {
      this.#step('unchanged', `version ${version.number}`, 'active');
      return null;
    }
    const command = `fastly service version activate --service-id=${service.id} --version=${version.number}`;
    if (!this.#ctx.flags.boolean('activate')) {
      const serving = service.versions.find((v) => v.active);
      this.#step(
        'not activated',
        `version ${version.number}`,
        serving
          ? `version ${serving.number} serves traffic; \`${command}\` activates this one (a clone of it, with the links), or publish to it with \`fastly compute publish --version=${version.number}\` (without --version, publish builds on version ${serving.number} and leaves the links out)`
          : `\`fastly compute publish\` uploads the package to it and activates it`,
      );
      return command;
    }
    if (dryRun) {
      this.#step('would activate', `version ${version.number}`);
      return null;
    }
    await this.#call(`activate version ${version.number}`, () =>
      api.activateVersion(service.id, version.number),
    );
    this.#step('activated', `version ${version.number}`);
    return null;
  }

  /**
   * Step 4: the store ids into trusted-server.toml, in place (only the quoted values change),
   * checked with the settings check before the file is replaced (atomically, by rename).
   */
  async #config(
    path: string,
    original: string,
    ids: ReadonlyMap<string, string>,
    publisherDomain: string | undefined,
    dryRun: boolean,
  ): Promise<Settings> {
    const values: Record<string, string> = {};
    for (const store of SETUP_STORES) {
      const id = ids.get(store.name);
      if (store.setting && id !== undefined) values[store.setting] = id;
    }
    const edit = setStringValues(original, SECTION, values);
    // The domain in the same edit and the same rename: the file is never half written.
    const domainEdit =
      publisherDomain === undefined
        ? { text: edit.text, changed: [] }
        : setStringValues(edit.text, 'publisher', { domain: publisherDomain }, 'host');
    if (publisherDomain !== undefined) {
      const note = isPlaceholderDomain(publisherDomain)
        ? ' (a placeholder: fine for a rehearsal, refused by npm run build)'
        : '';
      const result =
        domainEdit.changed.length === 0 ? 'unchanged' : dryRun ? 'would write' : 'written';
      this.#step(result, `${path} [publisher] domain`, `${publisherDomain}${note}`);
    }
    const text = domainEdit.text;
    if (edit.missing.includes('lock_store_id')) {
      this.#step(
        'skipped',
        `${path} lock_store_id`,
        `not in [${SECTION}] (Trusted Server's own file refuses it), so not added; key changes need it: add lock_store_id = "${values['lock_store_id'] ?? ''}" there in this service's copy`,
      );
    }
    // In a dry run, a store still to be created has no id yet: its key will change too.
    const pending = SETUP_STORES.filter(
      (s) => s.setting && !ids.has(s.name) && !edit.missing.includes(s.setting),
    ).map((s) => `${s.setting ?? ''} (the new ${s.name})`);
    const keys = [...edit.changed.map((c) => c.key), ...pending].join(', ');
    const idsUnchanged = edit.changed.length === 0 && pending.length === 0;
    if (idsUnchanged) this.#step('unchanged', path, 'the store ids are already there');
    if (dryRun || text === original) {
      if (!idsUnchanged) this.#step('would write', path, keys);
      return checkConfig(original, path);
    }
    const settings = checkConfig(text, path);
    const temporary = `${path}.tsctl-setup-${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
    if (!idsUnchanged) this.#step('written', path, keys);
    return settings;
  }

  /**
   * The service id into fastly.toml's `service_id`, so that `fastly compute publish` publishes to
   * the service setup linked (with it empty, publish would create another service).
   */
  async #manifest(
    path: string,
    manifest: string | null,
    service: ServiceInfo | undefined,
    dryRun: boolean,
  ): Promise<void> {
    if (manifest === null) {
      this.#step(
        'skipped',
        `${path} service_id`,
        `no such file; publish with \`fastly compute publish --service-id ${service?.id ?? 'ID'}\``,
      );
      return;
    }
    const edit = setStringValues(manifest, '', { service_id: service?.id ?? 'pending' });
    if (edit.missing.length > 0) {
      this.#step(
        'skipped',
        `${path} service_id`,
        `no top-level service_id; add service_id = "${service?.id ?? ''}" so compute publish uses this service`,
      );
      return;
    }
    if (service && edit.changed.length === 0) {
      this.#step('unchanged', `${path} service_id`, service.id);
      return;
    }
    if (dryRun || !service) {
      this.#step('would write', `${path} service_id`, service?.id ?? 'the new service');
      return;
    }
    const temporary = `${path}.tsctl-setup-${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, edit.text, { flag: 'wx' });
    await rename(temporary, path);
    this.#step('written', `${path} service_id`, service.id);
  }

  /** Step 5a: the Fastly API token into api-keys/api_key, when absent (or asked to replace). */
  async #apiToken(
    api: FastlyApi,
    ids: ReadonlyMap<string, string>,
    token: string,
    dryRun: boolean,
  ): Promise<void> {
    const label = `api-keys/${API_KEY_SECRET}`;
    const storeId = ids.get('api-keys');
    const replace = this.#ctx.flags.boolean('replace-api-token');
    const existing =
      storeId === undefined
        ? null
        : await this.#call(`read ${label}`, () => api.describeSecret(storeId, API_KEY_SECRET));
    if (existing && !replace) {
      this.#step('skipped (exists)', label, 'pass --replace-api-token to overwrite it');
      return;
    }
    if (dryRun || storeId === undefined) {
      this.#step('would upload', label, 'FASTLY_API_TOKEN');
      return;
    }
    await this.#call(`upload ${label}`, () =>
      api.putSecret(storeId, API_KEY_SECRET, token, existing ? 'upsert' : 'create'),
    );
    this.#step('uploaded', label, existing ? 'FASTLY_API_TOKEN, replacing it' : 'FASTLY_API_TOKEN');
  }

  /** Step 5b: a first operator token into admin_tokens, when the store has no entry. */
  async #adminToken(
    api: FastlyApi,
    ids: ReadonlyMap<string, string>,
    dryRun: boolean,
  ): Promise<void> {
    const storeId = ids.get('admin_tokens');
    const entries =
      storeId === undefined
        ? []
        : await this.#call('list admin_tokens', () => api.listSecrets(storeId));
    if (entries.length > 0) {
      this.#step(
        'skipped (exists)',
        'operator token',
        `admin_tokens has ${entries.length} token(s); make more with \`tsctl token create\``,
      );
      return;
    }
    if (dryRun || storeId === undefined) {
      this.#step('would create', 'operator token', 'shown once');
      return;
    }
    const id = `tok-${randomBytes(4).toString('hex')}`;
    const secret = newTokenSecret({ bytes: (n) => new Uint8Array(randomBytes(n)) });
    const record = await tokenRecord(secret, 'operator');
    await this.#call(`upload admin_tokens/${id}`, () =>
      api.putSecret(storeId, id, record, 'create'),
    );
    this.#operatorToken = { id, role: 'operator', token: `${id}.${secret}` };
    this.#step('uploaded', 'operator token', `admin_tokens/${id}`);
    if (this.#ctx.output !== 'json') {
      this.#ctx.print.out(
        [
          '',
          'Operator token. It is shown only this once and will not be shown again; keep it in a password manager:',
          '',
          `  ${this.#operatorToken.token}`,
          '',
        ].join('\n'),
      );
    }
  }

  /**
   * Step 6: the first key, when the deployment has none, through the same engine, lease and
   * journal as the service's rotate (no kid is published without its private key). Keys already
   * there (Trusted Server's) are adopted as they are: nothing is written for them.
   */
  async #firstKey(
    connection: ConstructorParameters<typeof FastlyApi>[0],
    settings: Settings,
    ids: ReadonlyMap<string, string>,
    dryRun: boolean,
  ): Promise<void> {
    const configStoreId = ids.get('jwks_store');
    const secretStoreId = ids.get('signing_keys');
    const lockStoreId = ids.get('keyring_locks');
    if (configStoreId === undefined || secretStoreId === undefined || lockStoreId === undefined) {
      this.#step('would create', 'first key', 'in the new stores');
      return;
    }
    const bounds = settings.fastly_api;
    const clock = { now: () => Date.now() };
    // As the service's own backend: no call, retries included, runs past the lease it takes.
    const api = new FastlyApi({
      ...connection,
      timeoutMs: Math.min(connection.timeoutMs, bounds.timeout_ms),
      retry: { deadlineMs: clock.now() + bounds.lease_ms },
    });
    const deployment = {
      ...resolveDeployment(settings, DEFAULT_DEPLOYMENT),
      configStoreId,
      secretStoreId,
    };
    const opened = openKeyring({
      settings,
      deployment,
      clock,
      random: { bytes: (n) => new Uint8Array(randomBytes(n)) },
      keyStore: keyStoreApi(api, { configStoreId, secretStoreId }),
      leaseStore: leaseStoreApi(api, lockStoreId),
      holder: { holder: 'tsctl-setup', requestId: `setup-${randomBytes(8).toString('hex')}` },
    });
    const loaded = await this.#call('read the keys', () => opened.engine.read());
    const keysets = loaded.keyring.keysets;
    if (keysets.length > 0) {
      const signing = activeKeyset(loaded.keyring)?.id;
      this.#step(
        'skipped (exists)',
        'first key',
        `${keysets.length} key set(s)${loaded.adopted ? ", Trusted Server's, adopted as they are" : ''}; signing: ${signing ?? 'none'}`,
      );
      return;
    }
    if (dryRun) {
      this.#step('would create', 'first key', 'ts-YYYY-MM-DD, Active');
      return;
    }
    // Checked again under the lease: a run racing this one may have made the first key since.
    const exists = new Error('keys exist');
    let result;
    try {
      result = await opened.engine.mutate({
        operation: 'rotate',
        precondition: (before) => {
          if (before.keysets.length > 0) throw exists;
        },
      });
    } catch (err) {
      if (err !== exists) throw fastlyFailure(err, 'create the first key');
      this.#step('skipped (exists)', 'first key', 'made meanwhile by another run');
      return;
    }
    const kid = activeKeyset(result.after)?.id ?? '';
    this.#step('created', 'first key', `${kid}, Active and published`);
  }

  #finish(run: {
    dryRun: boolean;
    service: ServiceInfo | undefined;
    version: ServiceVersion | undefined;
    configPath: string;
    activateCommand: string | null;
    /** [publisher] domain after this run (or, dry, after the run it plans). */
    domain: string;
  }): ExitCode {
    const placeholder = isPlaceholderDomain(run.domain);
    const changed = this.#steps.some(
      (s) => !READ_ONLY.has(s.result) && !s.result.startsWith('would'),
    );
    const planned = this.#steps.some((s) => s.result.startsWith('would'));
    const ctx = this.#ctx;
    if (ctx.output === 'json') {
      ctx.print.out(
        JSON.stringify({
          dry_run: run.dryRun,
          changed,
          service: run.service
            ? { id: run.service.id, name: run.service.name, version: run.version?.number ?? null }
            : null,
          config: run.configPath,
          steps: this.#steps,
          operator_token: this.#operatorToken ?? null,
          activate_command: run.activateCommand,
          publisher_domain: { value: run.domain, placeholder },
        }),
      );
      return EXIT.ok;
    }
    if (run.dryRun) {
      ctx.print.out(
        planned
          ? 'Dry run: nothing was written. Run it without --dry-run to do the "would" steps.'
          : 'Dry run: nothing was written, and there is nothing to do.',
      );
    } else if (!changed) {
      ctx.print.out('Nothing changed: everything was already set up.');
    }
    if (!run.dryRun && (changed || placeholder)) {
      // The production build refuses a placeholder domain: say so before it is tried.
      const first = placeholder
        ? `set [publisher] domain in ${run.configPath} to your publisher's domain ("${run.domain}" is a placeholder npm run build refuses), or re-run setup with --publisher-domain NAME; then `
        : '';
      ctx.print.out(
        `${changed ? 'Done. ' : ''}Next: ${first}npm run build, then npx fastly compute publish --non-interactive`,
      );
    }
    return EXIT.ok;
  }

  #step(result: string, step: string, detail?: string): void {
    const entry: SetupStep = { result, step, ...(detail !== undefined ? { detail } : {}) };
    this.#steps.push(entry);
    if (this.#ctx.output !== 'json') {
      this.#ctx.print.out(
        `${result.padEnd(16)} ${step}${detail !== undefined ? `: ${detail}` : ''}`,
      );
    }
  }

  /** Runs one Fastly call; its failure becomes a CliError that says what setup was doing. */
  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fastlyFailure(err, what);
    }
  }

  /** A failure, with what was done so far (and the operator token, if one was made). */
  #failure(err: unknown): CliError {
    const base =
      err instanceof CliError
        ? err
        : new CliError('internal', err instanceof Error ? err.message : String(err), EXIT.failure);
    const details = {
      ...base.details,
      steps: this.#steps,
      ...(this.#operatorToken ? { operator_token: this.#operatorToken } : {}),
    };
    const rerun =
      this.#steps.some((s) => !READ_ONLY.has(s.result) && !s.result.startsWith('would')) ||
      base.exitCode === EXIT.unknown ||
      base.exitCode === EXIT.failure;
    const hint =
      base.hint ??
      (rerun
        ? 'run the same tsctl setup again: it finds what this run did and completes the rest'
        : undefined);
    return new CliError(base.code, base.message, base.exitCode, hint, details);
  }
}

/**
 * `--publisher-domain`, lower-cased: a DNS host name (labels of letters, digits and inner hyphens,
 * at least two of them, the last not all digits, so no IP address), without scheme, port or path.
 */
export function hostName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const host = value.trim().toLowerCase();
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  const labels = host.split('.');
  if (
    host.length > 253 ||
    labels.length < 2 ||
    !labels.every((l) => label.test(l)) ||
    /^\d+$/.test(labels.at(-1) ?? '')
  ) {
    throw new UsageError(
      `--publisher-domain must be a host name such as www.publisher.com (no scheme, port, path or trailing dot), not ${JSON.stringify(value)}`,
    );
  }
  return host;
}

/**
 * Refuses, before anything is written, a domain setup cannot write: the file has no
 * `[publisher] domain` line, or it names a real domain other than the one asked for (setup
 * replaces placeholders only; signed requests bind the domain, so changing it is a decision).
 */
function checkPublisherDomain(original: string, path: string, wanted: string): void {
  let probe;
  try {
    probe = setStringValues(original, 'publisher', { domain: wanted }, 'host');
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CliError('config_incomplete', `${path}: ${message}`, EXIT.usage);
  }
  if (probe.missing.length > 0) {
    throw new CliError(
      'config_incomplete',
      `${path} has no domain under [publisher]; add domain = "" there (under a [publisher] header) and run setup again (it writes the domain)`,
      EXIT.usage,
    );
  }
  const current = probe.changed[0]?.from;
  if (current !== undefined && !isPlaceholderDomain(current)) {
    throw new CliError(
      'publisher_domain_clash',
      `${path} already names the publisher domain ${JSON.stringify(current)}, not ${JSON.stringify(wanted)}; setup replaces only a placeholder domain, and nothing was written`,
      EXIT.conflict,
      `if the publisher's domain really changed, edit [publisher] domain in ${path} by hand (signed requests bind it); otherwise drop --publisher-domain or pass ${current}`,
    );
  }
}

/** The settings file's text; a missing file is a usage error that says what to do. */
async function readConfig(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(
      'config_unreadable',
      `cannot read ${path} (${code})`,
      EXIT.usage,
      'run setup in the repository (it has trusted-server.toml), or pass --config PATH to your settings file',
    );
  }
}

/** The backend the app sends management-API calls through: `[fastly_api]` backend and endpoint. */
function apiBackend(settings: Settings): BackendSpec {
  const url = new URL(settings.fastly_api.endpoint);
  const useSsl = url.protocol === 'https:';
  return {
    name: settings.fastly_api.backend,
    address: url.hostname,
    port: url.port === '' ? (useSsl ? 443 : 80) : Number(url.port),
    useSsl,
  };
}

/** fastly.toml's text, or null when there is none (then publish needs --service-id). */
async function readManifest(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError('manifest_unreadable', `cannot read ${path} (${code})`, EXIT.usage);
  }
}

/**
 * Refuses a fastly.toml that names another service than the one setup links: publish would then
 * ship the package to a service without these links. Checked before anything is written.
 */
function checkManifestService(
  manifest: string | null,
  path: string,
  found: ServiceInfo | null,
  serviceName: string | undefined,
): void {
  if (manifest === null) return;
  let named: unknown;
  try {
    named = parse(manifest)['service_id'];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CliError('manifest_invalid', `${path}: ${message}`, EXIT.usage);
  }
  if (typeof named !== 'string' || named === '' || named === found?.id) return;
  const which = found
    ? `service ${found.name} (${found.id})`
    : `a new service ${serviceName ?? ''} (none has that name)`;
  throw new CliError(
    'service_id_clash',
    `${path} names service ${named}, but setup would link the stores to ${which}; nothing was written`,
    EXIT.conflict,
    `pass --service-id ${named} to set up that service, or clear service_id in ${path} to use the other`,
  );
}

/** The settings as the build and the edge would read them; refused files are usage errors. */
function checkConfig(text: string, path: string): Settings {
  try {
    return checkSettings(parse(text), { file: path }).settings;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CliError(
      'invalid_settings',
      message,
      EXIT.usage,
      `fix ${path}, then run setup again`,
    );
  }
}

/** Every settings key of the table, for checking that the file has them. */
function placeholderValues(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const store of SETUP_STORES) if (store.setting) values[store.setting] = '';
  return values;
}

async function findStore(api: FastlyApi, store: StoreSpec): Promise<string | undefined> {
  const all =
    store.kind === 'config-store'
      ? await api.listConfigStores(store.name)
      : store.kind === 'secret-store'
        ? await api.listSecretStores(store.name)
        : await api.listKvStores();
  const matches = all.filter((s) => s.name === store.name);
  if (matches.length > 1) {
    throw new CliError(
      'store_name_clash',
      `${matches.length} ${store.kind}s are named ${store.name} (${matches.map((m) => m.id).join(', ')}); the edge opens one by that name, so setup cannot tell which is meant`,
      EXIT.conflict,
      'delete or rename the one not in use, then re-run',
    );
  }
  return matches[0]?.id;
}

async function createStore(api: FastlyApi, store: StoreSpec): Promise<string> {
  const created =
    store.kind === 'config-store'
      ? await api.createConfigStore(store.name)
      : store.kind === 'secret-store'
        ? await api.createSecretStore(store.name)
        : await api.createKvStore(store.name);
  return created.id;
}

/** A Fastly API failure as tsctl reports it: 401/403 exit 4, 429 exit 8, unknown outcome 6. */
export function fastlyFailure(err: unknown, what: string): CliError {
  if (err instanceof CliError) return err;
  if (!(err instanceof TskError)) {
    return new CliError('internal', err instanceof Error ? err.message : String(err), EXIT.failure);
  }
  const details = err.details ?? {};
  const status = typeof details['status'] === 'number' ? details['status'] : undefined;
  const outcome = typeof details['outcome'] === 'string' ? details['outcome'] : undefined;
  const facts: Record<string, unknown> = { while: what };
  if (status !== undefined) facts['status'] = status;
  if (outcome !== undefined) facts['outcome'] = outcome;
  if (status === 401) {
    return new CliError(
      'fastly_token_refused',
      `Fastly refused the API token (401) to ${what}`,
      EXIT.auth,
      'check FASTLY_API_TOKEN (and FASTLY_API_ENDPOINT): the token may be mistyped, expired or for another account',
      facts,
    );
  }
  if (status === 403) {
    return new CliError(
      'fastly_permission_denied',
      `the Fastly API token may not ${what} (403)`,
      EXIT.auth,
      'setup needs a token with the global scope from a user who may create stores and services (engineer or superuser)',
      facts,
    );
  }
  if (status === 429) {
    const wait = details['retryAfterSeconds'];
    if (typeof wait === 'number') facts['retry_after_seconds'] = wait;
    return new CliError(
      'fastly_rate_limited',
      `the Fastly API rate limit was reached while trying to ${what}${typeof wait === 'number' ? `; retry in ${wait} s` : ''}`,
      EXIT.rateLimited,
      undefined,
      facts,
    );
  }
  const code =
    err.code === 'upstream_timeout' || err.code === 'upstream_failed' ? 'fastly_failed' : err.code;
  const exit = outcome === 'unknown' ? EXIT.unknown : exitCodeFor(status ?? 0, err.code);
  return new CliError(code, `could not ${what}: ${err.message}`, exit, undefined, facts);
}
