// The service-level calls of the management API (services, versions, resource links, backends),
// which only `tsctl setup` makes. They live outside FastlyApi because the edge bundle holds
// FastlyApi (the keyring engine's calls): methods of one class cannot be dropped from a bundle
// one by one, so these and ./services.ts would otherwise reach bin/main.wasm unused.
import { FastlyApi } from './client.js';
import * as services from './services.js';
import type { BackendSpec, ResourceLink, ServiceInfo, ServiceVersion } from './services.js';

/** FastlyApi plus services, versions, resource links and backends. */
export class FastlyServicesApi extends FastlyApi {
  /** A service with its versions, or null when no service has this id. */
  getService(id: string): Promise<ServiceInfo | null> {
    return services.getService(this.transport, id);
  }

  /** The service named `name`, or null. */
  findServiceByName(name: string): Promise<ServiceInfo | null> {
    return services.findServiceByName(this.transport, name);
  }

  /** Creates a service (`wasm` for Compute) with an editable version 1. */
  createService(name: string, type: 'wasm' | 'vcl'): Promise<ServiceInfo> {
    return services.createService(this.transport, name, type);
  }

  /** Clones a version into a new, editable one. */
  cloneVersion(serviceId: string, version: number): Promise<ServiceVersion> {
    return services.cloneVersion(this.transport, serviceId, version);
  }

  /** Activates a version. */
  activateVersion(serviceId: string, version: number): Promise<ServiceVersion> {
    return services.activateVersion(this.transport, serviceId, version);
  }

  /** The resource links of a version. */
  listResourceLinks(serviceId: string, version: number): Promise<ResourceLink[]> {
    return services.listResourceLinks(this.transport, serviceId, version);
  }

  /** Links a store to an editable version under `name`. */
  createResourceLink(
    serviceId: string,
    version: number,
    resourceId: string,
    name: string,
  ): Promise<ResourceLink> {
    return services.createResourceLink(this.transport, serviceId, version, resourceId, name);
  }

  /** The backends of a version. */
  listBackends(serviceId: string, version: number): Promise<BackendSpec[]> {
    return services.listBackends(this.transport, serviceId, version);
  }

  /** Adds a backend to an editable version. */
  createBackend(serviceId: string, version: number, spec: BackendSpec): Promise<BackendSpec> {
    return services.createBackend(this.transport, serviceId, version, spec);
  }
}
