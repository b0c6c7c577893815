/**
 * A TLS connection on Schannel: a Duplex stream of plaintext over any Duplex of ciphertext (a
 * `net.Socket`, or an in-memory pair), with Node `tls`-like ergonomics.
 *
 * Records are made and opened as the Schannel pages describe
 * ([EncryptMessage (Schannel)](https://learn.microsoft.com/en-us/windows/win32/secauthn/encryptmessage--schannel):
 * STREAM_HEADER + DATA + STREAM_TRAILER (+ EMPTY) sized from SECPKG_ATTR_STREAM_SIZES, plaintext split
 * at cbMaximumMessage; [DecryptMessage (Schannel)](https://learn.microsoft.com/en-us/windows/win32/secauthn/decryptmessage--schannel):
 * DATA + 3 EMPTY, SEC_E_INCOMPLETE_MESSAGE waits for more, SECBUFFER_EXTRA is the next record,
 * SEC_I_CONTEXT_EXPIRED is the peer's close_notify, SEC_I_RENEGOTIATE re-enters the handshake loop).
 * `end()` sends close_notify (ApplyControlToken SCHANNEL_SHUTDOWN, then a handshake step:
 * https://learn.microsoft.com/en-us/windows/win32/secauthn/shutting-down-an-schannel-connection).
 * @packageDocumentation
 */
import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import { Duplex } from 'node:stream';

import { SCHANNEL, SECBUFFER, SECPKG_ATTR, SECURITY_STATUS, TLS1_ALERT } from '../constants';
import { ClientContext, SecurityContext, ServerContext, StepResult } from '../context';
import { Credentials, TlsProtocol } from '../credentials';
import { isSuccess, SspiError } from '../errors';
import { TokenExchange } from '../handshake';
import { fromSecPkgContextBindings, tlsServerEndPointBindings } from '../bindings';
import { bufferType, bytesOf, SecBufferDesc } from '../raw/buffers';
import { ApplyControlToken } from '../raw/contexts';
import { DecryptMessage, EncryptMessage } from '../raw/message';
import { SecPkgContextStreamSizes } from '../raw/attributes';
import { peerCertificate, PeerCertificate } from './certificate';
import { schannelHandshake, SIDES, TlsRole } from './handshake';
import {
  applicationProtocols, MAX_RECORD_LENGTH, protocolName, RECORD_HEADER, RecordFramer, versionsBetween,
} from './schannel';

const EMPTY = Buffer.alloc(0);
/** Most ciphertext handed to one DecryptMessage: a few records, so several per read are seen (EXTRA) without copying unbounded input. */
const DECRYPT_WINDOW = 4 * (RECORD_HEADER + MAX_RECORD_LENGTH);
/** Ciphertext buffered before the transport is paused while nobody reads it. */
const HIGH_WATER = 64 * 1024;
/** Default handshake time limit, milliseconds (Node's tls default). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 120_000;

/** A TLS error of this library's own (not an SSPI status): Node-style `code`. */
export class TlsError extends Error {
  /** Node-style `ERR_...` code, e.g. ERR_TLS_CERT_ALTNAME_INVALID. */
  readonly code: string;
  /**
   * Makes the error (the library does; you catch it).
   * @param code - a Node-style `ERR_...` code.
   * @param message - what went wrong (never a secret).
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TlsError';
    this.code = code;
  }
}

/** Counts of what Schannel reported on this connection, for diagnostics and tests. */
export interface TlsDiagnostics {
  /** Every handshake step: its status name and the SECBUFFER_MISSING / SECBUFFER_EXTRA counts it returned. */
  handshakeSteps: { code: string; missingBytes?: number; extraBytes?: number; token?: number }[];
  /** DecryptMessage calls. */
  decryptCalls: number;
  /** DecryptMessage answers SEC_E_INCOMPLETE_MESSAGE, with their SECBUFFER_MISSING counts. */
  incomplete: number[];
  /** DecryptMessage answers that left SECBUFFER_EXTRA (another record in the same input). */
  extra: number;
  /** Records made by EncryptMessage. */
  recordsSent: number;
  /** Handshakes run after the first (SEC_I_RENEGOTIATE). */
  renegotiations: number;
  /** The steps after ApplyControlToken (close_notify, alerts): status name and the bytes of the record made. */
  controlSteps: { code: string; token?: number }[];
}

/** Options of {@link TlsSocket} (connect() and createServer() build them). */
export interface TlsSocketOptions {
  /** Server side (AcceptSecurityContext) instead of client (InitializeSecurityContext). */
  isServer?: boolean;
  /** Schannel credentials, or a promise of them (outbound for a client, inbound for a server). */
  credentials: Credentials | Promise<Credentials>;
  /** Dispose the credentials when the socket is destroyed. */
  ownsCredentials?: boolean;
  /** Client: pszTargetName (SNI and the name Schannel checks the certificate against). */
  servername?: string;
  /**
   * Client: refuse a server certificate that does not validate (default true). false sets
   * ISC_REQ_MANUAL_CRED_VALIDATION: Schannel does not validate, `authorized` says what this socket's
   * own checks found. Server: with requestCert, refuse clients without a certificate.
   */
  rejectUnauthorized?: boolean;
  /** Trust anchors of this connection (PEM or DER), checked by this socket besides Schannel's own validation. */
  ca?: (string | Buffer)[];
  /** ALPN protocol ids to offer (client) or accept (server), in order of preference. */
  ALPNProtocols?: string[];
  /** Server: ask for a client certificate (ASC_REQ_MUTUAL_AUTH). */
  requestCert?: boolean;
  /** Milliseconds the handshake may take (default 120000); then the socket is destroyed with ERR_TLS_HANDSHAKE_TIMEOUT. */
  handshakeTimeout?: number;
  /**
   * Client: credentials holding a client certificate, acquired when the server asks for one
   * (SEC_I_INCOMPLETE_CREDENTIALS) and the credentials given have none; disposed with the socket.
   */
  clientCredentials?: () => Promise<Credentials>;
  /**
   * The lowest / highest protocol version this connection may use. The credentials carry the same
   * restriction to Schannel (SCH_CREDENTIALS TLS_PARAMETERS); the socket checks the negotiated
   * version too, because not every Schannel applies it (Wine 10 ignores TLS_PARAMETERS).
   */
  minVersion?: TlsProtocol;
  /** See minVersion. */
  maxVersion?: TlsProtocol;
  /** Server: the DER of its own certificate (channel bindings where SECPKG_ATTR_ENDPOINT_BINDINGS is not answered). */
  certificateDer?: Buffer;
}

type State = 'waiting' | 'handshaking' | 'open' | 'closed';

function positiveMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TypeError(`${what} must be a positive number of milliseconds`);
  return value;
}

/**
 * A TLS connection over SSPI's Schannel, as a Duplex of plaintext. Create it with {@link connect} or
 * {@link createServer}, or directly over any Duplex carrying the ciphertext.
 *
 * Events: 'secureConnect' (client) and 'secure' (both) once the handshake is done; 'data' / 'end'
 * (the peer's close_notify, or the transport's end); 'error' with an {@link SspiError} (SSPI
 * failures), a {@link TlsError} (this library's checks: ERR_TLS_HANDSHAKE_TIMEOUT, ERR_TLS_PROTOCOL,
 * ERR_TLS_CERT_ALTNAME_INVALID, ERR_TLS_CERT_UNTRUSTED, ERR_TLS_CLOSED) or the transport's error.
 * Destroying it deletes the security context (DeleteSecurityContext) and destroys the transport.
 */
export class TlsSocket extends Duplex {
  /** Always true (Node's TLSSocket has it; lib/http uses it). */
  readonly encrypted = true;
  /** Whether the peer's certificate was validated (client: the server's; server: a client certificate). */
  authorized = false;
  /** Why not, when `authorized` is false after the handshake. */
  authorizationError: Error | undefined;
  /** The ALPN protocol agreed (SECPKG_ATTR_APPLICATION_PROTOCOL), or false. */
  alpnProtocol: string | false = false;
  /** What Schannel reported on this connection. */
  readonly diagnostics: TlsDiagnostics = { handshakeSteps: [], decryptCalls: 0, incomplete: [], extra: 0, recordsSent: 0, renegotiations: 0, controlSteps: [] };
  /** The transport carrying the ciphertext. */
  readonly transport: Duplex;

  private readonly role: TlsRole;
  private readonly options: TlsSocketOptions;
  private readonly alpn: Buffer | undefined;
  private context: ClientContext | ServerContext | undefined;
  private credentials: Credentials | undefined;
  private extraCredentials: Credentials | undefined;
  private state: State = 'waiting';
  private incoming: Buffer = EMPTY;
  private readonly framer = new RecordFramer();
  private waiting: ((bytes: Buffer | undefined) => void) | undefined;
  private transportEnded = false;
  private readBlocked = false;
  private sizes: SecPkgContextStreamSizes | undefined;
  private ready: Promise<void>;
  private readyResolve!: () => void;
  private readyReject!: (e: Error) => void;
  private timer: NodeJS.Timeout | undefined;
  private secureDone = false;
  /** A control step (close_notify, alert) is running on the context: no DecryptMessage meanwhile. */
  private controlBusy = false;

  /**
   * @param transport - the ciphertext stream (a connected or connecting net.Socket, or any Duplex).
   * @param options - see {@link TlsSocketOptions}.
   * @throws TypeError for a transport that is not a Duplex or options of the wrong shape.
   */
  constructor(transport: Duplex, options: TlsSocketOptions) {
    super({ allowHalfOpen: false });
    if (!(transport instanceof Duplex)) throw new TypeError('transport must be a Duplex stream (a net.Socket)');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (!(options.credentials instanceof Credentials) && !(options.credentials instanceof Promise)) {
      throw new TypeError('options.credentials must be Schannel Credentials (or a promise of them)');
    }
    if (options.handshakeTimeout !== undefined) positiveMs(options.handshakeTimeout, 'options.handshakeTimeout');
    if (options.servername !== undefined && typeof options.servername !== 'string') throw new TypeError('options.servername must be a string');
    versionsBetween(options.minVersion, options.maxVersion); // names checked here (TypeError / RangeError), not at the end of the handshake
    this.transport = transport;
    this.options = options;
    this.role = options.isServer ? 'server' : 'client';
    this.alpn = options.ALPNProtocols ? applicationProtocols(options.ALPNProtocols) : undefined;
    this.ready = this.newReady();
    transport.on('data', (chunk: Buffer) => this.onTransportData(chunk));
    transport.on('end', () => this.onTransportEnd());
    transport.on('close', () => this.onTransportEnd());
    transport.on('error', (e: Error) => this.destroy(e));
    this.startTimer();
    Promise.resolve(options.credentials).then((c) => this.begin(c), (e: Error) => {
      if (options.ownsCredentials) this.credentials = undefined;
      this.destroy(e);
    });
  }

  /** The time limit of a handshake (the first, or a renegotiation). */
  private startTimer(): void {
    clearTimeout(this.timer);
    const ms = this.options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.timer = setTimeout(() => {
      this.destroy(new TlsError('ERR_TLS_HANDSHAKE_TIMEOUT', `the TLS handshake did not finish in ${ms} ms`));
    }, ms);
    this.timer.unref?.();
  }

  private newReady(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    p.catch(() => undefined); // observed through writes; an unobserved failure is reported as 'error'
    return p;
  }

  /** True once the first handshake has completed (Node's TLSSocket has no such field; ours says it). */
  get secureEstablished(): boolean {
    return this.secureDone;
  }

  // ---- transport ------------------------------------------------------------------------------

  private onTransportData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const bad = this.framer.check(chunk);
    if (bad) {
      this.destroy(new TlsError('ERR_TLS_PROTOCOL', `the peer sent ${bad}`));
      return;
    }
    this.incoming = this.incoming.length > 0 ? Buffer.concat([this.incoming, chunk]) : chunk;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      const bytes = this.incoming;
      this.incoming = EMPTY;
      w(bytes);
    } else if (this.state === 'open') {
      this.pump();
    } else if (this.incoming.length > HIGH_WATER) {
      this.transport.pause(); // resumed when the handshake reads
    }
  }

  private onTransportEnd(): void {
    if (this.transportEnded) return;
    this.transportEnded = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(undefined);
    }
    this.pump();
  }

  /** After the transport's end, once every record received has been opened: the plaintext ends too. */
  private endIfTransportEnded(): void {
    if (this.transportEnded && this.state === 'open' && !this.controlBusy) {
      // The transport ended without a close_notify (or with a record cut short): the plaintext ends here.
      this.state = 'closed';
      this.push(null);
    }
  }

  /** The next bytes from the peer (undefined once the transport has ended). */
  private readTransport(): Promise<Buffer | undefined> {
    if (this.incoming.length > 0) {
      const bytes = this.incoming;
      this.incoming = EMPTY;
      return Promise.resolve(bytes);
    }
    if (this.transportEnded || this.state === 'closed') return Promise.resolve(undefined);
    this.transport.resume();
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Writes bytes to the transport; resolves at once unless it asks to wait (backpressure), then on 'drain'. */
  private writeTransport(bytes: Buffer): Promise<void> {
    if (this.transport.destroyed || this.transport.writableEnded) {
      return Promise.reject(new TlsError('ERR_TLS_CLOSED', 'the connection is closed'));
    }
    if (this.transport.write(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        cleanup();
        resolve();
      };
      const fail = (): void => {
        cleanup();
        reject(new TlsError('ERR_TLS_CLOSED', 'the connection closed while writing'));
      };
      const cleanup = (): void => {
        this.transport.off('drain', done);
        this.transport.off('close', fail);
      };
      this.transport.once('drain', done);
      this.transport.once('close', fail);
    });
  }

  private readonly exchange: TokenExchange = async (token, final) => {
    if (token) await this.writeTransport(token);
    if (final) return undefined;
    return this.readTransport();
  };

  // ---- handshake ------------------------------------------------------------------------------

  private begin(credentials: Credentials): void {
    this.credentials = credentials;
    if (this.state === 'closed') {
      if (this.options.ownsCredentials) credentials.dispose();
      return;
    }
    const side = SIDES[this.role];
    const contextReq = side.contextReq({ manualValidation: this.options.rejectUnauthorized === false, requestCert: this.options.requestCert });
    this.context = this.role === 'client'
      ? new ClientContext(credentials, { targetName: this.options.servername, contextReq })
      : new ServerContext(credentials, { contextReq });
    this.handshake(undefined);
  }

  private handshake(input: Buffer | undefined): void {
    const context = this.context!;
    this.state = 'handshaking';
    schannelHandshake(context, this.exchange, {
      role: this.role,
      alpn: this.alpn,
      input,
      onStep: (o) => this.diagnostics.handshakeSteps.push(o instanceof SspiError
        ? { code: o.code, missingBytes: o.missingBytes, extraBytes: o.extraBytes, token: o.token?.length }
        : { code: o.code, missingBytes: o.missingBytes, extraBytes: o.extraBytes, token: o.token?.length }),
      onIncompleteCredentials: (r) => this.incompleteCredentials(r),
    }).then((r) => this.established(r.extra), (e: Error) => this.destroy(e));
  }

  /** SEC_I_INCOMPLETE_CREDENTIALS: credentials with a client certificate when we have them, else go on without. */
  private async incompleteCredentials(_r: StepResult): Promise<void> {
    if (!this.options.clientCredentials || this.extraCredentials || !this.context) return;
    this.extraCredentials = await this.options.clientCredentials();
    this.context.useCredentials(this.extraCredentials);
  }

  private async established(extra: Buffer | undefined): Promise<void> {
    if (this.state === 'closed') return;
    const context = this.context!;
    try {
      this.sizes = context.queryAttribute(SECPKG_ATTR.STREAM_SIZES);
      if (!this.secureDone) {
        if (this.alpn) this.alpnProtocol = this.queryAlpn();
        const failure = this.validate();
        if (failure) {
          this.authorizationError = failure.error;
          if (this.options.rejectUnauthorized !== false || failure.error.code === 'ERR_TLS_PROTOCOL_VERSION') {
            await this.sendAlert(failure.alert).catch(() => undefined);
            this.destroy(failure.error);
            return;
          }
        } else {
          this.authorized = this.role === 'client' || this.hasPeerCertificate();
        }
      }
    } catch (e) {
      this.destroy(e as Error);
      return;
    }
    if ((this.state as State) === 'closed') return;
    clearTimeout(this.timer);
    this.state = 'open';
    if (extra && extra.length > 0) this.incoming = this.incoming.length > 0 ? Buffer.concat([extra, this.incoming]) : extra;
    const first = !this.secureDone;
    this.secureDone = true;
    this.readyResolve();
    if (first) {
      if (this.role === 'client') this.emit('secureConnect');
      this.emit('secure');
    }
    this.transport.resume();
    this.pump();
  }

  private queryAlpn(): string | false {
    const r = this.context!.queryAttribute(SECPKG_ATTR.APPLICATION_PROTOCOL);
    // SecApplicationProtocolNegotiationStatus_Success (1)
    return r.ProtoNegoStatus === 1 && r.ProtocolIdSize > 0 ? r.ProtocolId.subarray(0, r.ProtocolIdSize).toString('utf8') : false;
  }

  private hasPeerCertificate(): boolean {
    try {
      return this.peerDer() !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * The checks of this socket, besides Schannel's: the server name against the server certificate
   * (Node's checkServerIdentity; Microsoft's Schannel checks it too unless validation is manual) and,
   * with `ca`, that the certificate is one of them or issued and signed by one of them.
   */
  private validate(): { error: TlsError; alert: TLS1_ALERT } | undefined {
    const allowed = versionsBetween(this.options.minVersion, this.options.maxVersion);
    if (allowed) {
      const version = protocolName(this.context!.queryAttribute(SECPKG_ATTR.CONNECTION_INFO).dwProtocol);
      if (!allowed.includes(version as TlsProtocol)) {
        return {
          error: new TlsError('ERR_TLS_PROTOCOL_VERSION', `the connection uses ${version}, outside ${allowed[0]}..${allowed[allowed.length - 1]}`),
          alert: TLS1_ALERT.PROTOCOL_VERSION,
        };
      }
    }
    if (this.role === 'server') {
      if (this.options.requestCert && this.options.rejectUnauthorized !== false && !this.hasPeerCertificate()) {
        return { error: new TlsError('ERR_TLS_CERT_REQUIRED', 'the client sent no certificate'), alert: TLS1_ALERT.CERTIFICATE_UNKNOWN };
      }
      return undefined;
    }
    const der = this.peerDer();
    if (!der) return { error: new TlsError('ERR_TLS_CERT_UNTRUSTED', 'the server sent no certificate'), alert: TLS1_ALERT.CERTIFICATE_UNKNOWN };
    const x509 = new X509Certificate(der);
    const name = this.options.servername;
    if (name) {
      const ok = net.isIP(name) ? x509.checkIP(name) !== undefined : x509.checkHost(name) !== undefined;
      if (!ok) {
        return {
          error: new TlsError('ERR_TLS_CERT_ALTNAME_INVALID', `the server certificate is not for '${name}' (subject ${x509.subject.replace(/\n/g, ', ')})`),
          alert: TLS1_ALERT.BAD_CERTIFICATE,
        };
      }
    }
    if (this.options.ca) {
      const anchors = this.options.ca.map((c) => new X509Certificate(c));
      const trusted = anchors.some((a) => a.raw.equals(x509.raw) || (x509.checkIssued(a) && x509.verify(a.publicKey)));
      if (!trusted) return { error: new TlsError('ERR_TLS_CERT_UNTRUSTED', 'the server certificate is not issued by any of the trusted certificates (ca)'), alert: TLS1_ALERT.UNKNOWN_CA };
    } else if (this.options.rejectUnauthorized === false) {
      // Manual validation and no anchors: nobody has checked the chain.
      return { error: new TlsError('ERR_TLS_CERT_NOT_VALIDATED', 'the server certificate was not validated (rejectUnauthorized: false, no ca)'), alert: TLS1_ALERT.CERTIFICATE_UNKNOWN };
    }
    return undefined;
  }

  /**
   * Sends a fatal TLS alert: ApplyControlToken with an SCHANNEL_ALERT_TOKEN, then a handshake step
   * that returns the alert record (https://learn.microsoft.com/en-us/windows/win32/secauthn/creating-an-schannel-alert).
   */
  private async sendAlert(alert: TLS1_ALERT): Promise<void> {
    const token = Buffer.alloc(12);
    token.writeUInt32LE(SCHANNEL.ALERT, 0);
    token.writeUInt32LE(TLS1_ALERT.FATAL, 4);
    token.writeUInt32LE(alert, 8);
    await this.controlStep(token);
  }

  /** ApplyControlToken(token), then one step without input; its output record goes to the peer. */
  private async controlStep(token: Buffer): Promise<void> {
    const context = this.context!;
    const status = ApplyControlToken(context.handle, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }]);
    if (!isSuccess(status)) throw new SspiError(status, 'ApplyControlToken', { package: context.package });
    context.reopen();
    let r: StepResult;
    try {
      r = await context.step(undefined, { outputBuffers: [{ BufferType: SECBUFFER.ALERT, cbBuffer: 512 }] });
    } catch (e) {
      if (e instanceof SspiError) this.diagnostics.controlSteps.push({ code: e.code, token: e.token?.length });
      if (e instanceof SspiError && e.token) await this.writeTransport(e.token).catch(() => undefined);
      throw e;
    }
    this.diagnostics.controlSteps.push({ code: r.code, token: r.token?.length });
    if (r.token) await this.writeTransport(r.token);
  }

  // ---- records --------------------------------------------------------------------------------

  /** Opens the records received, as far as the reader wants them. */
  private pump(): void {
    const context = this.context;
    while (this.state === 'open' && context && !this.controlBusy && !this.readBlocked && this.incoming.length >= RECORD_HEADER) {
      const window = this.incoming.length > DECRYPT_WINDOW ? this.incoming.subarray(0, DECRYPT_WINDOW) : this.incoming;
      const rest = window.length < this.incoming.length ? this.incoming.subarray(window.length) : EMPTY;
      const message: SecBufferDesc = [
        { BufferType: SECBUFFER.DATA, pvBuffer: window },
        { BufferType: SECBUFFER.EMPTY }, { BufferType: SECBUFFER.EMPTY }, { BufferType: SECBUFFER.EMPTY },
      ];
      let status: number;
      try {
        status = DecryptMessage(context.handle, message, 0).status >>> 0;
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      this.diagnostics.decryptCalls++;
      const find = (type: number) => message.find((b) => bufferType(b.BufferType) === type);
      if (status === SECURITY_STATUS.SEC_E_INCOMPLETE_MESSAGE) {
        this.diagnostics.incomplete.push(find(SECBUFFER.MISSING)?.cbBuffer ?? 0);
        break; // wait for the rest of the record
      }
      const extraBuffer = find(SECBUFFER.EXTRA);
      const extra = extraBuffer ? bytesOf(extraBuffer) : EMPTY;
      if (extraBuffer) this.diagnostics.extra++;
      this.incoming = extra.length > 0 && rest.length > 0 ? Buffer.concat([extra, rest]) : extra.length > 0 ? extra : rest;
      if (status === SECURITY_STATUS.SEC_E_OK) {
        const data = bytesOf(find(SECBUFFER.DATA));
        if (data.length > 0 && !this.push(Buffer.from(data))) this.readBlocked = true;
        continue;
      }
      if (status === SECURITY_STATUS.SEC_I_CONTEXT_EXPIRED) {
        // The peer's close_notify: no more data from it (RFC 5246 section 7.2.1).
        this.state = 'closed';
        this.incoming = EMPTY;
        this.push(null);
        return;
      }
      if (status === SECURITY_STATUS.SEC_I_RENEGOTIATE) {
        this.renegotiate();
        return;
      }
      this.destroy(new SspiError(status, 'DecryptMessage', { package: context.package, detail: 'decrypting a TLS record' }));
      return;
    }
    if (this.readBlocked) this.transport.pause();
    else this.endIfTransportEnded();
  }

  /** SEC_I_RENEGOTIATE: the handshake loop again, fed the bytes after the record (SECBUFFER_EXTRA). */
  private renegotiate(): void {
    this.diagnostics.renegotiations++;
    this.startTimer();
    this.ready = this.newReady();
    const input = this.incoming;
    this.incoming = EMPTY;
    try {
      this.context!.reopen();
    } catch (e) {
      this.destroy(e as Error);
      return;
    }
    this.handshake(input.length > 0 ? input : undefined);
  }

  /** @internal the stream.Duplex implementation hook. */
  override _read(): void {
    this.readBlocked = false;
    if (this.state === 'open') {
      this.pump();
      if (!this.readBlocked) this.transport.resume();
    }
  }

  /** Resolves when records can be made (after the handshake or a renegotiation). */
  private async whenOpen(): Promise<void> {
    for (;;) {
      if (this.state === 'open' || (this.state === 'closed' && this.secureDone && !this.destroyed)) return;
      if (this.destroyed) throw new TlsError('ERR_TLS_CLOSED', 'the TLS socket is destroyed');
      await this.ready;
    }
  }

  private async send(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length;) {
      await this.whenOpen();
      const context = this.context!;
      const sizes = this.sizes!;
      const piece = chunk.subarray(offset, offset + sizes.cbMaximumMessage);
      offset += piece.length;
      const message: SecBufferDesc = [
        { BufferType: SECBUFFER.STREAM_HEADER, pvBuffer: Buffer.alloc(sizes.cbHeader) },
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(piece) }, // a copy: the caller's chunk is not encrypted in place
        { BufferType: SECBUFFER.STREAM_TRAILER, pvBuffer: Buffer.alloc(sizes.cbTrailer) },
        { BufferType: SECBUFFER.EMPTY },
      ];
      const status = EncryptMessage(context.handle, 0, message, 0) >>> 0;
      if (status !== SECURITY_STATUS.SEC_E_OK) throw new SspiError(status, 'EncryptMessage', { package: context.package, detail: 'making a TLS record' });
      this.diagnostics.recordsSent++;
      await this.writeTransport(Buffer.concat([bytesOf(message[0]), bytesOf(message[1]), bytesOf(message[2])]));
    }
  }

  /** @internal the stream.Duplex implementation hook. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send(chunk).then(() => callback(), (e: Error) => callback(e));
  }

  /** @internal the stream.Duplex implementation hook. */
  override _final(callback: (error?: Error | null) => void): void {
    this.shutdown().then(() => {
      this.transport.end();
      callback();
    }, (e: Error) => callback(e));
  }

  /** close_notify: ApplyControlToken(SCHANNEL_SHUTDOWN) and the step that returns the alert record. */
  private async shutdown(): Promise<void> {
    await this.whenOpen();
    if (this.transport.destroyed || this.transport.writableEnded) return;
    const token = Buffer.alloc(4);
    token.writeUInt32LE(SCHANNEL.SHUTDOWN, 0);
    this.controlBusy = true;
    try {
      await this.controlStep(token);
    } finally {
      this.controlBusy = false;
      this.pump(); // records that arrived meanwhile (the peer's close_notify)
    }
  }

  /** @internal the stream.Duplex implementation hook. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.state = 'closed';
    this.readyReject(error ?? new TlsError('ERR_TLS_CLOSED', 'the TLS socket is destroyed'));
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(undefined);
    }
    let failure: Error | null = error;
    try {
      this.context?.dispose(); // during a pending step, the delete happens when the step ends
    } catch (e) {
      failure ??= e as Error;
    }
    if (this.options.ownsCredentials) this.credentials?.dispose();
    this.extraCredentials?.dispose();
    if (!error && this.transport.writableEnded && !this.transport.writableFinished && !this.transport.destroyed) {
      // After end(): let the close_notify already written reach the peer before the transport goes.
      this.transport.once('finish', () => this.transport.destroy());
      this.transport.once('error', () => this.transport.destroy());
    } else {
      this.transport.destroy();
    }
    callback(failure);
  }

  // ---- what the connection is -----------------------------------------------------------------

  private establishedContext(): SecurityContext {
    if (!this.context || !this.secureDone) throw new TlsError('ERR_TLS_NOT_CONNECTED', 'the TLS handshake has not completed');
    if (this.context.disposed) throw new TlsError('ERR_TLS_CLOSED', 'the TLS socket is destroyed');
    return this.context;
  }

  private peerDer(): Buffer | undefined {
    const r = this.context!.queryAttribute(SECPKG_ATTR.REMOTE_CERT_CONTEXT);
    return r.pbCertEncoded && r.pbCertEncoded.length > 0 ? r.pbCertEncoded : undefined;
  }

  /**
   * The peer's certificate (SECPKG_ATTR_REMOTE_CERT_CONTEXT via
   * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/secauthn/querycontextattributes--schannel)):
   * its DER (`raw`) and the fields parsed from it; an empty object when the peer sent none (a client
   * without certificate: Microsoft's Schannel answers SEC_E_NO_CREDENTIALS... and Wine's
   * SEC_E_INTERNAL_ERROR, both taken as "none" on a server).
   * @throws TlsError ERR_TLS_NOT_CONNECTED before the handshake; SspiError on a client whose context
   *   cannot say.
   */
  getPeerCertificate(): PeerCertificate | Record<string, never> {
    this.establishedContext();
    let der: Buffer | undefined;
    try {
      der = this.peerDer();
    } catch (e) {
      if (this.role === 'server' && e instanceof SspiError) return {};
      throw e;
    }
    return der ? peerCertificate(der) : {};
  }

  /**
   * The protocol version ('TLSv1.2', 'TLSv1.3') from SECPKG_ATTR_CONNECTION_INFO's dwProtocol, or
   * null before the handshake.
   */
  getProtocol(): string | null {
    if (!this.secureDone || !this.context || this.context.disposed) return null;
    return protocolName(this.context.queryAttribute(SECPKG_ATTR.CONNECTION_INFO).dwProtocol);
  }

  /**
   * The cipher suite from SECPKG_ATTR_CIPHER_INFO (szCipherSuite, the IANA name), with the protocol
   * version, as Node's getCipher(): `{ name, standardName, version }`.
   * @throws TlsError before the handshake; SspiError where Schannel does not answer the attribute.
   */
  getCipher(): { name: string; standardName: string; version: string } {
    const context = this.establishedContext();
    const info = context.queryAttribute(SECPKG_ATTR.CIPHER_INFO);
    return { name: info.szCipherSuite, standardName: info.szCipherSuite, version: this.getProtocol() ?? '' };
  }

  /**
   * The connection's channel bindings for Negotiate's Extended Protection: the SEC_CHANNEL_BINDINGS
   * of SECPKG_ATTR_ENDPOINT_BINDINGS (tls-server-end-point, RFC 5929), ready for the
   * `channelBindings` option of a context. A server whose Schannel does not answer the attribute
   * (Wine's computes it from the peer's certificate, so a server without client certificate gets
   * SEC_E_INTERNAL_ERROR) computes the same bytes from its own certificate (`certificateDer`) with
   * tlsServerEndPointBindings (lib/bindings.ts).
   * @throws TlsError before the handshake; SspiError when neither way works.
   */
  getChannelBindings(): Buffer {
    const context = this.establishedContext();
    try {
      return fromSecPkgContextBindings(context.queryAttribute(SECPKG_ATTR.ENDPOINT_BINDINGS));
    } catch (e) {
      if (this.role === 'server' && this.options.certificateDer && e instanceof SspiError) return tlsServerEndPointBindings(this.options.certificateDer);
      throw e;
    }
  }

  /** The security context (for raw calls); undefined before the credentials are ready. */
  get securityContext(): SecurityContext | undefined {
    return this.context;
  }
}

