/**
 * TLS on SSPI's Schannel with Node `tls`-like ergonomics: {@link connect}, {@link createServer},
 * {@link TlsSocket}; and the handshake loop they share ({@link schannelHandshake}).
 * @packageDocumentation
 */
import * as net from 'node:net';
import { Duplex } from 'node:stream';

import { Certificate } from '../certificates';
import { AcquireCredentialsOptions, Credentials, SchannelOptions, TlsProtocol } from '../credentials';
import { versionsBetween } from './schannel';
import { TlsError, TlsSocket, TlsSocketOptions } from './socket';

export { TlsSocket, TlsError, DEFAULT_HANDSHAKE_TIMEOUT } from './socket';
export type { TlsSocketOptions, TlsDiagnostics } from './socket';
export { schannelHandshake, SIDES } from './handshake';
export type { TlsRole, SchannelSide, SchannelHandshakeOptions } from './handshake';
export { applicationProtocols, protocolName, RecordFramer } from './schannel';
export { peerCertificate } from './certificate';
export type { PeerCertificate, CertificateName } from './certificate';

/** TLS versions by Node's names. */
export type TlsVersion = TlsProtocol;

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** An existing transport (net.Socket or any Duplex); else a TCP connection to host:port is made. */
  socket?: Duplex;
  /** The host to connect to when no `socket` is given; default 'localhost'. */
  host?: string;
  /** The TCP port to connect to when no `socket` is given. */
  port?: number;
  /** The server name for SNI and certificate validation; default `host` (not for IP addresses' SNI, as Node). */
  servername?: string;
  /** Outbound Schannel credentials; default: acquired here (and disposed with the socket). */
  credentials?: Credentials;
  /**
   * A client certificate (with its private key), sent when the server asks for one: part of the
   * credentials acquired here, or, with `credentials`, acquired on SEC_I_INCOMPLETE_CREDENTIALS.
   */
  certificate?: Certificate;
  /** Default true; false: ISC_REQ_MANUAL_CRED_VALIDATION (see TlsSocketOptions.rejectUnauthorized). */
  rejectUnauthorized?: boolean;
  /** Trust anchors checked by the socket besides Schannel (PEM or DER). */
  ca?: (string | Buffer)[];
  /** ALPN protocol names to offer, in order of preference ('h2', 'http/1.1'). */
  ALPNProtocols?: string[];
  /** Lowest / highest TLS version (SCH_CREDENTIALS protocol restrictions of the credentials acquired here). */
  minVersion?: TlsVersion;
  /** See minVersion. */
  maxVersion?: TlsVersion;
  /** Milliseconds; default 120000. */
  handshakeTimeout?: number;
}

function acquire(options: AcquireCredentialsOptions & SchannelOptions): Promise<Credentials> {
  return Credentials.acquire(options);
}

/**
 * Opens a TLS connection as a client, like Node's `tls.connect`: over `options.socket`, or a new TCP
 * connection to host:port. The handshake runs InitializeSecurityContext (Schannel) through
 * {@link schannelHandshake}; 'secureConnect' follows, or 'error' (SspiError / TlsError).
 * @param options - see {@link ConnectOptions}.
 * @param listener - added as a 'secureConnect' listener.
 * @returns the TlsSocket at once.
 * @throws TypeError for options of the wrong shape. AcquireCredentialsHandle failures (e.g.
 *   SEC_E_ALGORITHM_MISMATCH for protocols the platform does not offer) come as 'error'.
 */
export function connect(options: ConnectOptions, listener?: () => void): TlsSocket {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.socket !== undefined && !(options.socket instanceof Duplex)) throw new TypeError('options.socket must be a Duplex (net.Socket)');
  if (options.credentials !== undefined && !(options.credentials instanceof Credentials)) throw new TypeError('options.credentials must be Credentials');
  const host = options.host ?? 'localhost';
  const transport = options.socket ?? net.connect({ host, port: options.port as number });
  const versions = versionsBetween(options.minVersion, options.maxVersion);
  if (options.certificate !== undefined && !(options.certificate instanceof Certificate)) throw new TypeError('options.certificate must be a Certificate');
  const base: AcquireCredentialsOptions & SchannelOptions = {
    package: 'Schannel', use: 'outbound', ...(versions ? { protocols: versions } : {}),
    ...(options.rejectUnauthorized === false ? { manualValidation: true } : {}),
  };
  // A client certificate goes into the credentials from the start: Schannel sends it when the server
  // asks (Wine 10's never answers SEC_I_INCOMPLETE_CREDENTIALS; it sends what the credentials hold).
  // With caller-given credentials, it is acquired when Schannel says the server wants one.
  const certificate = options.certificate ? { certificate: options.certificate } : {};
  const withCertificate = options.certificate && options.credentials ? (): Promise<Credentials> => acquire({ ...base, ...certificate }) : undefined;
  const socketOptions: TlsSocketOptions = {
    credentials: options.credentials ?? acquire({ ...base, ...certificate }),
    ownsCredentials: options.credentials === undefined,
    servername: options.servername ?? host,
    rejectUnauthorized: options.rejectUnauthorized,
    ca: options.ca,
    ALPNProtocols: options.ALPNProtocols,
    handshakeTimeout: options.handshakeTimeout,
    clientCredentials: withCertificate,
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
  };
  let socket: TlsSocket;
  try {
    socket = new TlsSocket(transport, socketOptions);
  } catch (e) {
    if (!options.socket) transport.destroy();
    throw e;
  }
  if (listener) socket.once('secureConnect', listener);
  return socket;
}

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** The server certificate with its private key (Certificate of lib/certificates.ts). */
  certificate?: Certificate;
  /** Inbound Schannel credentials; default: acquired from `certificate` (and disposed when the server closes). */
  credentials?: Credentials;
  /** Ask clients for a certificate (ASC_REQ_MUTUAL_AUTH). */
  requestCert?: boolean;
  /** With requestCert: refuse clients without one (default true). */
  rejectUnauthorized?: boolean;
  /** ALPN protocol names the server accepts, in order of preference. */
  ALPNProtocols?: string[];
  /** Milliseconds; default 120000. */
  handshakeTimeout?: number;
  /** Lowest / highest TLS version (SCH_CREDENTIALS protocol restrictions of the credentials acquired here). */
  minVersion?: TlsVersion;
  /** See minVersion. */
  maxVersion?: TlsVersion;
  /**
   * Most TLS handshakes in progress at once, server-wide (connections accepted and not yet
   * 'secureConnection', each holding an AcceptSecurityContext context): a positive integer, default
   * {@link DEFAULT_MAX_PENDING_TLS_HANDSHAKES}. A connection past it is closed at once, before any
   * SSPI call, and reported as 'tlsClientError' with code 'ERR_SSPI_TLS_PENDING_HANDSHAKES'.
   */
  maxPendingHandshakes?: number;
  /**
   * The same per client address (IP), so one client cannot take the whole server-wide allowance
   * with handshakes it never finishes: default {@link DEFAULT_MAX_PENDING_TLS_HANDSHAKES_PER_ADDRESS}.
   */
  maxPendingHandshakesPerAddress?: number;
}

/** Default {@link ServerOptions.maxPendingHandshakes}. */
export const DEFAULT_MAX_PENDING_TLS_HANDSHAKES = 256;
/** Default {@link ServerOptions.maxPendingHandshakesPerAddress}. */
export const DEFAULT_MAX_PENDING_TLS_HANDSHAKES_PER_ADDRESS = 32;

/** A count option: TypeError for another type, RangeError for a number that is not a positive integer (as lib/http's options). */
function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`options.${name} must be a number`);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`options.${name} must be a positive integer; got ${value}`);
  return value;
}

/**
 * A TCP server whose connections are TlsSockets (server side, AcceptSecurityContext): emits
 * 'secureConnection' (TlsSocket) after each handshake and 'tlsClientError' (error, TlsSocket) for a
 * handshake that failed, or (TlsError 'ERR_SSPI_TLS_PENDING_HANDSHAKES', undefined) for a connection
 * closed unhandled because too many handshakes were in progress ({@link ServerOptions.maxPendingHandshakes},
 * {@link ServerOptions.maxPendingHandshakesPerAddress}). Closing it disposes the credentials it acquired.
 */
export class TlsServer extends net.Server {
  private credentials: Promise<Credentials> | undefined;
  private readonly owns: boolean;
  private readonly tlsOptions: ServerOptions;
  private readonly maxPending: number;
  private readonly maxPendingPerAddress: number;
  /** Handshakes in progress: in all, and per client address. */
  private pending = 0;
  private readonly pendingByAddress = new Map<string, number>();

  /** See {@link createServer}, which constructs it. */
  constructor(options: ServerOptions, listener?: (socket: TlsSocket) => void) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (options.credentials === undefined && options.certificate === undefined) {
      throw new TypeError('options.certificate (or options.credentials) is required for a TLS server');
    }
    if (options.credentials !== undefined && !(options.credentials instanceof Credentials)) throw new TypeError('options.credentials must be Credentials');
    if (options.certificate !== undefined && !(options.certificate instanceof Certificate)) throw new TypeError('options.certificate must be a Certificate');
    this.tlsOptions = options;
    this.maxPending = positiveInteger(options.maxPendingHandshakes, 'maxPendingHandshakes', DEFAULT_MAX_PENDING_TLS_HANDSHAKES);
    this.maxPendingPerAddress = positiveInteger(options.maxPendingHandshakesPerAddress, 'maxPendingHandshakesPerAddress', DEFAULT_MAX_PENDING_TLS_HANDSHAKES_PER_ADDRESS);
    this.owns = options.credentials === undefined;
    const versions = versionsBetween(options.minVersion, options.maxVersion);
    if (options.credentials) this.credentials = Promise.resolve(options.credentials);
    else {
      this.credentials = acquire({ package: 'Schannel', use: 'inbound', certificate: options.certificate, ...(versions ? { protocols: versions } : {}) });
      this.credentials.catch((e: Error) => this.emit('error', e));
    }
    if (listener) this.on('secureConnection', listener);
    this.on('connection', (socket: net.Socket) => this.accept(socket));
    this.on('close', () => {
      if (this.owns) this.credentials?.then((c) => c.dispose(), () => undefined);
      this.credentials = undefined;
    });
  }

  private accept(socket: net.Socket): void {
    if (!this.credentials) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.pendingByAddress.get(address) ?? 0;
    if (this.pending >= this.maxPending || fromAddress >= this.maxPendingPerAddress) {
      const perAddress = fromAddress >= this.maxPendingPerAddress;
      socket.destroy();
      this.emit('tlsClientError', new TlsError('ERR_SSPI_TLS_PENDING_HANDSHAKES', perAddress
        ? `${fromAddress} TLS handshakes from ${address} are in progress (maxPendingHandshakesPerAddress): connection closed`
        : `${this.pending} TLS handshakes are in progress (maxPendingHandshakes): connection closed`), undefined);
      return;
    }
    this.pending++;
    this.pendingByAddress.set(address, fromAddress + 1);
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      this.pending--;
      const n = (this.pendingByAddress.get(address) ?? 1) - 1;
      if (n > 0) this.pendingByAddress.set(address, n);
      else this.pendingByAddress.delete(address);
    };
    socket.once('close', done);
    const o = this.tlsOptions;
    const tlsSocket = new TlsSocket(socket, {
      isServer: true,
      credentials: this.credentials,
      requestCert: o.requestCert,
      rejectUnauthorized: o.rejectUnauthorized,
      ALPNProtocols: o.ALPNProtocols,
      handshakeTimeout: o.handshakeTimeout,
      certificateDer: o.certificate?.raw,
      minVersion: o.minVersion,
      maxVersion: o.maxVersion,
    });
    const onError = (e: Error): void => {
      this.emit('tlsClientError', e, tlsSocket);
    };
    tlsSocket.on('error', onError);
    tlsSocket.once('close', done);
    tlsSocket.once('secure', () => {
      done();
      tlsSocket.off('error', onError);
      this.emit('secureConnection', tlsSocket);
    });
  }
}

/**
 * Creates a TLS server on Schannel, like Node's `tls.createServer`: listen() it as any net.Server.
 * @param options - see {@link ServerOptions}.
 * @param listener - added as a 'secureConnection' listener.
 * @throws TypeError without a certificate or credentials, or for an option of the wrong type; RangeError
 *   for maxPendingHandshakes / maxPendingHandshakesPerAddress that are not positive integers.
 *   AcquireCredentialsHandle failures come as the server's 'error'.
 */
export function createServer(options: ServerOptions, listener?: (socket: TlsSocket) => void): TlsServer {
  return new TlsServer(options, listener);
}


