import { ClientContext, SecurityContext, ServerContext, StepOptions, StepResult } from './context';
import { SECURITY_STATUS } from './constants';
import { SspiError } from './errors';

/** Outcome of {@link handshake}: the last step of each side and the number of tokens exchanged. */
export interface HandshakeResult {
  /** The client's last step (InitializeSecurityContext). */
  client: StepResult;
  /** The server's last step (AcceptSecurityContext). */
  server: StepResult;
  /** Tokens that crossed between the two sides (NTLM: 3, Kerberos with mutual auth: 2). */
  legs: number;
}

const MAX_LEGS = 16;
/**
 * Most input bytes a stream-mode step may be handed while the package keeps answering
 * SEC_E_INCOMPLETE_MESSAGE: a TLS flight is a few records of at most 2^14 + 2048 bytes each
 * (RFC 5246 section 6.2.3), far below this.
 */
const MAX_INCOMPLETE_INPUT = 1 << 20;

/*
 * A failing step's output token goes to the peer before the failure is reported. Microsoft's
 * AcceptSecurityContext pages, of pOutput: "Any buffer generated must be sent back to the client
 * application" (https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--general,
 * .../acceptsecuritycontext--negotiate, .../acceptsecuritycontext--schannel); and ISC_REQ_EXTENDED_ERROR /
 * ASC_REQ_EXTENDED_ERROR: "When errors occur, the remote party will be notified"
 * (https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--general). The
 * token is {@link SspiError.token}: a KRB-ERROR, a SPNEGO reject, a TLS alert.
 */

/** Runs `step`; if it fails with an output token, hands the token to `deliver` first, then rethrows. */
async function stepDelivering(step: () => Promise<StepResult>, deliver: (token: Buffer) => Promise<unknown>): Promise<StepResult> {
  try {
    return await step();
  } catch (e) {
    // Schannel writes its alert record into the output token, or (where the package fills it) into the
    // SECBUFFER_ALERT buffer asked for with outputBuffers: either is the peer's.
    const toPeer = e instanceof SspiError ? e.token ?? e.alert : undefined;
    if (toPeer) {
      try {
        await deliver(toPeer);
      } catch {
        // The step's failure is what the caller must see; the peer's reaction to it is secondary.
      }
    }
    throw e;
  }
}

/**
 * Runs a whole handshake between a client and a server context in this process, each step off the
 * JavaScript thread, until both sides are complete.
 *
 * Useful for tests and for checking credentials ("can this user log on?"). Each step calls
 * [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw) or
 * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) through
 * {@link SecurityContext.step}; tokens are Buffers owned by the loop. Neither context is disposed:
 * the caller owns both. When a step fails with an output token ({@link SspiError.token}), the token
 * is first fed to the other side, as SSPI callers send it to the peer, and the first failure is
 * reported.
 * @rejects Error if a side wants to continue without a token for the other, or after 16 legs.
 * @rejects SspiError from either side's step (e.g. SEC_E_LOGON_DENIED from AcceptSecurityContext).
 */
export async function handshake(client: ClientContext, server: ServerContext): Promise<HandshakeResult> {
  // A side's failure token is fed to the other side's next step (its outcome is ignored: the first
  // failure is the one reported).
  const deliverToClient = (token: Buffer): Promise<unknown> => (client.complete ? Promise.resolve() : client.step(token));
  const deliverToServer = (token: Buffer): Promise<unknown> => (server.complete ? Promise.resolve() : server.step(token));
  let c = await stepDelivering(() => client.step(), deliverToServer);
  let s: StepResult | undefined;
  let legs = 0;
  let toServer = c.token;
  while (!(client.complete && server.complete)) {
    if (legs >= MAX_LEGS) throw new Error(`handshake did not finish in ${MAX_LEGS} legs`);
    if (!server.complete) {
      if (!toServer) throw new Error(`handshake: the client (${c.code}) produced no token for the server`);
      legs++;
      const input = toServer;
      s = await stepDelivering(() => server.step(input), deliverToClient);
      toServer = undefined;
      if (!client.complete) {
        if (!s.token) throw new Error(`handshake: the server (${s.code}) produced no token for the client`);
        legs++;
        const reply = s.token;
        c = await stepDelivering(() => client.step(reply), deliverToServer);
        toServer = c.token;
      }
    } else if (!client.complete) {
      throw new Error('handshake: the server is complete but the client is not, and has no token to process');
    }
  }
  if (!s) throw new Error('handshake: the client completed without talking to the server');
  return { client: c, server: s, legs };
}

/**
 * Sends a token to the peer and returns the peer's answer (undefined if it sent none).
 * `final` is true for a token produced by the step that completed this side (NTLM's AUTHENTICATE
 * message, Kerberos' AP-REP), and for the token of a step that failed (a KRB-ERROR, SPNEGO reject,
 * TLS alert): it must still reach the peer, but no answer is needed. `token` is undefined when this
 * side has nothing to send but needs more from the peer (SEC_I_CONTINUE_NEEDED without a token, or
 * SEC_E_INCOMPLETE_MESSAGE on a stream transport): resolve with the peer's next bytes.
 */
export type TokenExchange = (token: Buffer | undefined, final: boolean) => Promise<Buffer | undefined>;

/** Options of {@link runHandshake}. */
export interface RunHandshakeOptions {
  /**
   * Extra buffers and channel bindings for every step ({@link StepOptions}), or a function giving
   * them per step (its argument counts the steps from 0), e.g. channel bindings that change.
   */
  stepOptions?: StepOptions | ((step: number) => StepOptions | undefined);
  /**
   * Stream transports (TLS over a socket): on SEC_E_INCOMPLETE_MESSAGE, ask the peer for more bytes
   * (`exchange(undefined, false)`) and run the step again on what was given plus the new bytes, as
   * SSPI's SECBUFFER_MISSING asks. Default false: a message transport (HTTP headers) delivers whole
   * tokens, and SEC_E_INCOMPLETE_MESSAGE is an error there.
   */
  stream?: boolean;
  /**
   * Called after every step with its result, or with the SspiError of a step that failed (also a
   * SEC_E_INCOMPLETE_MESSAGE the stream mode recovers from): for diagnostics (SECBUFFER_MISSING and
   * SECBUFFER_EXTRA counts, statuses). What it throws is ignored.
   */
  onStep?: (outcome: StepResult | SspiError) => void;
  /**
   * SEC_I_INCOMPLETE_CREDENTIALS (a Schannel client whose server asked for a client certificate the
   * credentials do not hold): called before the step is run again on the same input. It may give the
   * context new credentials ({@link SecurityContext.useCredentials}, e.g. ones with a client
   * certificate); without a change the next call continues without a certificate, as
   * [InitializeSecurityContext (Schannel)](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--schannel)
   * describes. Default: continue without a certificate.
   */
  onIncompleteCredentials?: (result: StepResult) => void | Promise<void>;
}

/** What {@link runHandshake} returns: the completing step, and the input bytes it did not consume. */
export interface RunHandshakeResult extends StepResult {
  /**
   * SECBUFFER_EXTRA of the completing step: the bytes at the end of the last input that belong to
   * what follows the handshake (the first application record of a TLS stream); undefined when none.
   */
  extra: Buffer | undefined;
}

/** The last `count` bytes of `input` (SECBUFFER_EXTRA: the unconsumed end of the input). */
function tail(input: Uint8Array | undefined, count: number | undefined): Buffer | undefined {
  if (!input || !count || count <= 0) return undefined;
  return Buffer.from(input.subarray(Math.max(0, input.length - count)));
}

/**
 * Drives one side of a handshake whose tokens travel over some transport (HTTP headers, a socket),
 * until this side is complete. Each step is {@link SecurityContext.step}:
 * [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw) for a client,
 * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) for a server,
 * with [CompleteAuthToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-completeauthtoken) where the
 * package asks for it. The context stays the caller's to dispose.
 *
 * The loop follows SSPI's buffer conventions: SEC_I_CONTINUE_NEEDED without a token asks the peer for
 * more without sending anything; SECBUFFER_EXTRA (bytes of the input the step did not consume) is fed
 * to the next step, before anything new from the peer, and after the completing step is returned as
 * `extra`; with `stream`, SEC_E_INCOMPLETE_MESSAGE reads more and retries.
 *
 * ```ts
 * const result = await runHandshake(client, async (token) => sendToServerAndGetReply(token));
 * ```
 * @param context - a fresh {@link ClientContext}, or a {@link ServerContext} with `initialToken`.
 * @param exchange - delivers a token (or nothing) and resolves with the peer's reply.
 * @param initialToken - the peer's first token (servers: the client's first message).
 * @param options - per-step buffers and channel bindings; stream mode.
 * @returns the step that completed the context, with the unconsumed `extra` bytes.
 * @rejects Error when the peer stops answering before completion or after 16 legs.
 * @rejects RequirementError when the context completed short of its requirements.
 * @rejects SspiError from a step. A step that fails with an output token ({@link SspiError.token}:
 *   a KRB-ERROR, SPNEGO reject or TLS alert) first has it delivered by `exchange(token, true)`, as
 *   Microsoft's docs say the peer must get it; then the SspiError rejects (a rejection of that
 *   delivery is ignored in its favour).
 * @rejects whatever `exchange` rejects with while delivering a success token.
 */
export async function runHandshake(context: SecurityContext, exchange: TokenExchange, initialToken?: Uint8Array,
  options: RunHandshakeOptions = {}): Promise<RunHandshakeResult> {
  let input: Uint8Array | undefined = initialToken;
  let steps = 0;
  let retriedCredentials = false;
  const report = (outcome: StepResult | SspiError): void => {
    try {
      options.onStep?.(outcome);
    } catch {
      // a diagnostic hook must not change the handshake
    }
  };
  const stepOptions = (): StepOptions | undefined =>
    typeof options.stepOptions === 'function' ? options.stepOptions(steps) : options.stepOptions;
  for (let legs = 0; legs < MAX_LEGS; legs++) {
    let r: StepResult;
    try {
      const given = input;
      r = await stepDelivering(() => context.step(given, stepOptions()), (token) => exchange(token, true));
      steps++;
      report(r);
    } catch (e) {
      steps++;
      if (e instanceof SspiError) report(e);
      if (!(options.stream && e instanceof SspiError && e.code === 'SEC_E_INCOMPLETE_MESSAGE')) throw e;
      const more = await exchange(undefined, false);
      if (!more || more.length === 0) throw new Error('runHandshake: the peer sent nothing more, and the last message is incomplete');
      input = input ? Buffer.concat([input, more]) : more;
      if (input.length > MAX_INCOMPLETE_INPUT) {
        throw new Error(`runHandshake: ${input.length} bytes received and the package still calls the message incomplete`);
      }
      // Not a leg: nothing was exchanged, only more of the same message read (each time at least one
      // byte, so a peer trickling bytes is bounded by MAX_INCOMPLETE_INPUT and the caller's time limit).
      legs--;
      continue;
    }
    if (r.status === SECURITY_STATUS.SEC_I_INCOMPLETE_CREDENTIALS) {
      // The same input goes in again (nothing of it was consumed); once only, so a package that keeps
      // asking cannot loop.
      if (retriedCredentials) throw new SspiError(r.status, 'InitializeSecurityContext', { package: context.package, detail: 'continuing without a client certificate' });
      retriedCredentials = true;
      await options.onIncompleteCredentials?.(r);
      continue;
    }
    const extra = tail(input, r.extraBytes);
    if (r.complete) {
      if (r.token) await exchange(r.token, true);
      return { ...r, extra };
    }
    if (r.token) {
      const reply = await exchange(r.token, false);
      input = extra && reply ? Buffer.concat([extra, reply]) : reply ?? extra;
    } else if (extra) {
      input = extra; // SSPI consumed part of the input: the rest goes in again, nothing is sent
    } else {
      input = await exchange(undefined, false); // SEC_I_CONTINUE_NEEDED with nothing to send
    }
    if (!input) throw new Error(`runHandshake: the peer sent no token after ${r.code}, but this side is not complete`);
  }
  throw new Error(`runHandshake did not finish in ${MAX_LEGS} legs`);
}
