/**
 * The Schannel handshake loop, one piece of code for both sides: InitializeSecurityContext (client)
 * and AcceptSecurityContext (server) differ only in the data of {@link SIDES}. The loop itself is
 * {@link runHandshake} in stream mode; what this adds is Schannel's buffer layout, as the pages say:
 *
 * - input: SECBUFFER_TOKEN with the bytes received, then a SECBUFFER_EMPTY that comes back as
 *   SECBUFFER_EXTRA (bytes of the next record, fed first to the next call) or SECBUFFER_MISSING
 *   (SEC_E_INCOMPLETE_MESSAGE: read more and call again with the same context);
 * - output: SECBUFFER_TOKEN for the records to send, and a SECBUFFER_ALERT for the alert a failing
 *   call produces, which is sent to the peer before the failure is reported;
 * - SECBUFFER_APPLICATION_PROTOCOLS (ALPN) in the client's first input and every server input;
 * - ISC_REQ_EXTENDED_ERROR / ASC_REQ_EXTENDED_ERROR so the peer is told of failures,
 *   ASC_REQ_MUTUAL_AUTH to ask for a client certificate, ISC_REQ_MANUAL_CRED_VALIDATION when the
 *   caller validates the server certificate itself;
 * - SEC_I_INCOMPLETE_CREDENTIALS: retry with a client certificate when one was given, else go on
 *   without.
 *
 * Pages: https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--schannel,
 * https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--schannel.
 * @packageDocumentation
 */
import { ASC_REQ, ISC_REQ, SECBUFFER } from '../constants';
import { SecurityContext, StepOptions, StepResult } from '../context';
import { SspiError } from '../errors';
import { runHandshake, RunHandshakeResult, TokenExchange } from '../handshake';
import { SecBuffer } from '../raw/buffers';

/** Which end of the TLS connection. */
export type TlsRole = 'client' | 'server';

/** What differs between the two sides of the loop. */
export interface SchannelSide {
  /** The SSPI function each step calls. */
  fn: 'InitializeSecurityContext' | 'AcceptSecurityContext';
  /** fContextReq for the options given. */
  contextReq(options: { manualValidation?: boolean; requestCert?: boolean }): number;
  /** Whether step `n` (from 0) carries the SECBUFFER_APPLICATION_PROTOCOLS buffer. */
  alpnOnStep(n: number): boolean;
  /** Whether the first step has input (the server's first step takes the ClientHello). */
  firstStepHasInput: boolean;
}

/** Bytes supplied for the SECBUFFER_ALERT output buffer (an alert record is 7 bytes; encrypted, a few dozen). */
const ALERT_BUFFER_SIZE = 512;

/**
 * The two sides. Requests follow the Schannel pages and Microsoft's Schannel client sample: sequence
 * and replay detection, confidentiality, extended errors, stream mode; the output buffers are the
 * caller's (no ALLOCATE_MEMORY, like the rest of this library).
 */
export const SIDES: Record<TlsRole, SchannelSide> = {
  client: {
    fn: 'InitializeSecurityContext',
    contextReq: (o) => (ISC_REQ.SEQUENCE_DETECT | ISC_REQ.REPLAY_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.EXTENDED_ERROR
      | ISC_REQ.STREAM | (o.manualValidation ? ISC_REQ.MANUAL_CRED_VALIDATION : 0)) >>> 0,
    alpnOnStep: (n) => n === 0,
    firstStepHasInput: false,
  },
  server: {
    fn: 'AcceptSecurityContext',
    contextReq: (o) => (ASC_REQ.SEQUENCE_DETECT | ASC_REQ.REPLAY_DETECT | ASC_REQ.CONFIDENTIALITY | ASC_REQ.EXTENDED_ERROR
      | ASC_REQ.STREAM | (o.requestCert ? ASC_REQ.MUTUAL_AUTH : 0)) >>> 0,
    alpnOnStep: () => true,
    firstStepHasInput: true,
  },
};

/** Options of {@link schannelHandshake}. */
export interface SchannelHandshakeOptions {
  /** Which side `context` is. */
  role: TlsRole;
  /** SEC_APPLICATION_PROTOCOLS bytes ({@link applicationProtocols}) to offer (client) or accept (server). */
  alpn?: Buffer;
  /** Bytes already received for this handshake (a server's first bytes; the EXTRA of SEC_I_RENEGOTIATE). */
  input?: Buffer;
  /** Every step's outcome (see RunHandshakeOptions.onStep). */
  onStep?: (outcome: StepResult | SspiError) => void;
  /** SEC_I_INCOMPLETE_CREDENTIALS: see RunHandshakeOptions.onIncompleteCredentials. */
  onIncompleteCredentials?: (result: StepResult) => void | Promise<void>;
}

/** The buffers of step `n` beside the token. */
function stepBuffers(side: SchannelSide, n: number, hasToken: boolean, alpn: Buffer | undefined): StepOptions {
  const inputBuffers: SecBuffer[] = [];
  if (hasToken) inputBuffers.push({ BufferType: SECBUFFER.EMPTY });
  if (alpn && side.alpnOnStep(n)) inputBuffers.push({ BufferType: SECBUFFER.APPLICATION_PROTOCOLS, pvBuffer: alpn });
  return { inputBuffers, outputBuffers: [{ BufferType: SECBUFFER.ALERT, cbBuffer: ALERT_BUFFER_SIZE }] };
}

/**
 * Runs a Schannel handshake (or a renegotiation) on `context` over a byte stream, until this side
 * is established. Each step is {@link SecurityContext.step}:
 * [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--schannel)
 * or [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--schannel),
 * with the buffers described above.
 * @param context - a fresh (or {@link SecurityContext.reopen}ed) Schannel context; stays the caller's.
 * @param exchange - writes records to the peer and reads what it sends (see {@link TokenExchange}).
 * @returns the completing step and `extra`: bytes received after the handshake (application records).
 * @rejects SspiError from a step (the alert or token it produced has been written to the peer first):
 *   SEC_E_ILLEGAL_MESSAGE, SEC_E_UNTRUSTED_ROOT, SEC_E_WRONG_PRINCIPAL, SEC_E_CERT_EXPIRED,
 *   SEC_E_ALGORITHM_MISMATCH, SEC_E_APPLICATION_PROTOCOL_MISMATCH, SEC_E_INTERNAL_ERROR, ...
 * @rejects Error when the peer stops sending before the handshake is complete.
 */
export async function schannelHandshake(context: SecurityContext, exchange: TokenExchange, options: SchannelHandshakeOptions): Promise<RunHandshakeResult> {
  const side = SIDES[options.role];
  let input: Buffer | undefined = options.input && options.input.length > 0 ? options.input : undefined;
  if (!input && side.firstStepHasInput) {
    input = await exchange(undefined, false);
    if (!input || input.length === 0) throw new Error('the peer closed the connection before sending a TLS handshake');
  }
  // Every step after the first has input; the first has it on a server and on a renegotiating client.
  const firstHasToken = input !== undefined;
  return runHandshake(context, exchange, input, {
    stream: true,
    stepOptions: (n) => stepBuffers(side, n, n > 0 || firstHasToken, options.alpn),
    onStep: options.onStep,
    onIncompleteCredentials: options.onIncompleteCredentials,
  });
}
