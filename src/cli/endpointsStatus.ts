// `svd status` on a run spread over several servers: each one's requests, errors and state, from the run's
// endpoints.json (written by the running or last session). A snapshot that cannot be read is left out, never fatal.
import { readEndpointsSnapshot } from '../core/method/endpointsSnapshot';
import { EndpointsSnapshotSchema, formatEndpoints, type EndpointStatusJson } from '../protocol/endpoints';

export function readEndpoints(dir: string): { at: string; endpoints: EndpointStatusJson[] } | undefined {
  return readEndpointsSnapshot(dir, EndpointsSnapshotSchema);
}

/** The lines `svd status` prints under the funnel; none for a run on one server. */
export function endpointsLines(snapshot: { at: string; endpoints: EndpointStatusJson[] } | undefined): string[] {
  if (!snapshot || snapshot.endpoints.length === 0) return [];
  return [`servers (as of ${snapshot.at}):`, ...formatEndpoints(snapshot.endpoints).map((line) => `  ${line}`)];
}
