// One deployment's keyring engine and rotation manager, wired over the management-API ports.
// Every management backend shares this wiring (the Fastly API client in src/fastly-api, the
// in-memory fakes of the tests): the backend supplies the ports, this file the lease bounds and
// the engine's options, so the two can never disagree on them.
import type { DeploymentConfig } from '../deployments.js';
import type { Clock, EdgeSecrets, KeyStoreApi, LeaseStoreApi, Random } from '../ports.js';
import type { Settings } from '../settings.js';
import { nextTransitionAtMs } from '../schedule/planner.js';
import { schedulePolicy, type SchedulePolicy } from '../schedule/policy.js';
import { KeyringEngine } from './engine.js';
import { KvLease, type LeaseHolder } from './lease.js';
import { KeyRotationManager } from './rotation-manager.js';

/** Which deployment a request opens, and who opens it (for the lease record). */
export interface DeploymentRequest extends LeaseHolder {
  /** The deployment's name, as the route or the default gives it. */
  name: string;
}

/** The stores and management-API access of one deployment, for one request. */
export interface OpenedDeployment {
  name: string;
  engine: KeyringEngine;
  manager: KeyRotationManager;
  /** The deployment's rotation schedule. */
  policy: SchedulePolicy;
}

/**
 * Opens deployments for requests. The platform builds one and hands it to the app through its
 * Services, so the app never knows which management backend it talks to. Only routes that need
 * the authoritative state call it: the hot path never opens a deployment.
 */
export interface Deployments {
  /** Throws `deployment_not_found` for an undeclared name, `not_configured` for missing access. */
  open(request: DeploymentRequest): Promise<OpenedDeployment>;
}

/** What `openKeyring` wires together. */
export interface KeyringPorts {
  settings: Settings;
  deployment: DeploymentConfig;
  clock: Clock;
  random: Random;
  /** The deployment's config and secret stores, through the management backend. */
  keyStore: KeyStoreApi;
  /** The lock store; absent when none is configured (the engine then neither locks nor journals). */
  leaseStore?: LeaseStoreApi;
  holder: LeaseHolder;
  /** The deployment's private keys as the edge reads them, for the activation check. */
  privateKeys?: EdgeSecrets;
}

/** The engine and manager of one deployment, with the lease bounds of `fastly_api` settings. */
export function openKeyring(ports: KeyringPorts): OpenedDeployment {
  const { fastly_api: bounds } = ports.settings;
  const policy = schedulePolicy(ports.settings, ports.deployment);
  const guard = ports.leaseStore
    ? new KvLease(
        ports.leaseStore,
        ports.clock,
        { holder: ports.holder.holder, requestId: ports.holder.requestId },
        { operationMs: bounds.lease_ms, lateWriteMs: bounds.late_write_ms },
      )
    : undefined;
  const engine = new KeyringEngine({
    api: ports.keyStore,
    clock: ports.clock,
    random: ports.random,
    deployment: ports.deployment.name,
    keyLifetimeDays: ports.deployment.keyLifetimeDays,
    callTimeoutMs: bounds.timeout_ms,
    lateWriteBoundMs: bounds.late_write_ms,
    nextTransitionAt: (keyring) => nextTransitionAtMs(keyring, policy),
    taintCutoffSkewSeconds: ports.settings.verify.taint_cutoff_skew_seconds,
    ...(guard ? { guard } : {}),
    ...(ports.privateKeys ? { privateKeys: ports.privateKeys } : {}),
  });
  return {
    name: ports.deployment.name,
    engine,
    manager: new KeyRotationManager(engine),
    policy,
  };
}
