import { ClientContext, SecurityContext, ServerContext, StepResult } from './context';
import { SspiError } from './errors';

/** Outcome of {@link handshake}: the last step of each side and the number of tokens exchanged. */
export interface HandshakeResult {
  client: StepResult;
  server: StepResult;
  /** Tokens that crossed between the two sides (NTLM: 3, Kerberos with mutual auth: 2). */
  legs: number;
}

const MAX_LEGS = 16;

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
    if (e instanceof SspiError && e.token) {
      try {
        await deliver(e.token);
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
 * TLS alert): it must still reach the peer, but no answer is needed.
 */
export type TokenExchange = (token: Buffer, final: boolean) => Promise<Buffer | undefined>;

/**
 * Drives one side of a handshake whose tokens travel over some transport (HTTP headers, a socket),
 * until this side is complete. Each step is {@link SecurityContext.step}:
 * [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw) for a client,
 * [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) for a server. The
 * context stays the caller's to dispose.
 *
 * ```ts
 * const result = await runHandshake(client, async (token) => sendToServerAndGetReply(token));
 * ```
 * @param context - a fresh {@link ClientContext}, or a {@link ServerContext} with `initialToken`.
 * @param exchange - delivers a token and resolves with the peer's reply.
 * @param initialToken - the peer's first token (servers: the client's first message).
 * @returns the step that completed the context.
 * @rejects Error when the peer stops answering before completion or after 16 legs.
 * @rejects SspiError from a step. A step that fails with an output token ({@link SspiError.token}:
 *   a KRB-ERROR, SPNEGO reject or TLS alert) first has it delivered by `exchange(token, true)`, as
 *   Microsoft's docs say the peer must get it; then the SspiError rejects (a rejection of that
 *   delivery is ignored in its favour).
 * @rejects whatever `exchange` rejects with while delivering a success token.
 */
export async function runHandshake(context: SecurityContext, exchange: TokenExchange, initialToken?: Uint8Array): Promise<StepResult> {
  let input: Uint8Array | undefined = initialToken;
  for (let legs = 0; legs < MAX_LEGS; legs++) {
    const r = await stepDelivering(() => context.step(input), (token) => exchange(token, true));
    if (r.complete) {
      if (r.token) await exchange(r.token, true);
      return r;
    }
    if (!r.token) throw new Error(`runHandshake: ${r.code} without a token to send`);
    input = await exchange(r.token, false);
    if (!input) throw new Error('runHandshake: the peer sent no token but this side is not complete');
  }
  throw new Error(`runHandshake did not finish in ${MAX_LEGS} legs`);
}
