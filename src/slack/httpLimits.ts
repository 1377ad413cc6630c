import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long a client may take and how many connections it may hold, so that clients sending a byte
 * now and then cannot tie up the server. Slack sends a whole request at once, within a second.
 */
export interface HttpLimits {
  /** Time to receive the request headers. */
  headersTimeoutMs: number;
  /** Time to receive the whole request (headers and body); then 408 and the socket is closed. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often Node looks for requests past those timeouts. */
  checkEveryMs: number;
  /** Connections open at once; further ones are closed on arrival. */
  maxConnections: number;
  /**
   * Connections open at once from one address, so one client cannot take them all and the
   * health check (from another address) still gets through. Behind a proxy every connection
   * comes from the proxy: then this is in effect `maxConnections`.
   */
  maxConnectionsPerAddress: number;
  /** Largest request body (413 above it); Bolt's 4 MB admits anything Slack sends. */
  bodyLimitBytes: number;
  /** Bytes of request bodies held at once across requests (503 above it), so memory stays bounded. */
  bufferedBytesLimit: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  checkEveryMs: 1_000,
  maxConnections: 1_024,
  maxConnectionsPerAddress: 256,
  bodyLimitBytes: 4 * 1024 * 1024,
  bufferedBytesLimit: 64 * 1024 * 1024,
};

/** Options for `http.createServer` (Bolt's HTTPReceiver passes them on). */
export function serverOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkEveryMs,
  };
}

/** Caps the connections of a listening server, in total and per remote address. */
export function limitConnections(server: Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = (perAddress.get(address) ?? 0) + 1;
    if (open > limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    perAddress.set(address, open);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
}
