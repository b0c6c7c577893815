import { strict as assert } from 'node:assert';

import { NegotiateAgent, NegotiateClientError } from '../../lib/http/client';
import { ControllerDispatchHandler, DispatchController, isControllerHandler, parseRawHeaders, toLegacyHandler } from '../../lib/http/handler';
import { IntegratedAuthenticator } from '../../lib/http/server';
import { handleFigures } from '../../lib/raw';
import { testBed } from '../support/env';
import { AuthServer, listenAuth } from '../support/http';

/** What a controller-style handler saw. */
interface Seen {
  status?: number;
  headers?: Record<string, string | string[]>;
  rawHeaderCount?: number;
  body: Buffer[];
  trailers?: Record<string, string | string[]>;
  error?: Error;
  pauses: number;
}

/**
 * A handler with only undici 8's controller methods, as Node 26's global fetch passes to
 * `dispatcher.dispatch` (its fetch implements onRequestStart, onResponseStart(controller, status,
 * headers, statusText), onResponseData, onResponseEnd, onResponseError and reads controller.rawHeaders).
 * `pauseEvery`: pause after every n-th chunk and resume on a later turn, as a slow body consumer does.
 */
function controllerHandler(seen: Seen, done: () => void, options: { pauseEvery?: number; abortAtStart?: Error } = {}): ControllerDispatchHandler {
  let chunks = 0;
  return {
    onRequestStart(controller: DispatchController) {
      if (options.abortAtStart) controller.abort(options.abortAtStart);
    },
    onResponseStart(controller, status, headers) {
      seen.status = status;
      seen.headers = headers;
      seen.rawHeaderCount = controller.rawHeaders?.length;
    },
    onResponseData(controller, chunk) {
      seen.body.push(chunk);
      if (options.pauseEvery && ++chunks % options.pauseEvery === 0) {
        controller.pause();
        seen.pauses++;
        setImmediate(() => controller.resume());
      }
    },
    onResponseEnd(_controller, trailers) {
      seen.trailers = trailers;
      done();
    },
    onResponseError(_controller, error) {
      seen.error = error;
      done();
    },
  };
}

describe('NegotiateAgent with undici 8 controller-style handlers (Node 26\'s global fetch)', () => {
  const bed = testBed();
  let running: AuthServer | undefined;
  let base: string;
  const big = Buffer.alloc(1024 * 1024, 'x');

  before(async () => {
    const auth = new IntegratedAuthenticator({ schemes: ['Negotiate'] });
    running = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (!id) return;
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end(req.url === '/big' ? big : JSON.stringify({ package: id.package }));
    });
    base = `http://127.0.0.1:${running.port}`;
  });

  after(async () => {
    await running?.close();
  });

  function dispatch(agent: NegotiateAgent, path: string, options: { pauseEvery?: number; abortAtStart?: Error } = {}): Promise<Seen> {
    const seen: Seen = { body: [], pauses: 0 };
    return new Promise((resolve) => {
      // The handler type undici 6's declarations know is the first shape; Node 26 passes this one.
      agent.dispatch({ origin: base, path, method: 'GET', headers: {} },
        controllerHandler(seen, () => resolve(seen), options) as never);
    });
  }

  it('tells the two shapes apart; a first-shape handler is used as it is', () => {
    const first = { onConnect() {}, onHeaders() { return true; }, onData() { return true; }, onComplete() {}, onError() {} };
    assert.equal(isControllerHandler(first), false);
    assert.equal(toLegacyHandler(first), first);
    // undici 7 (Node 24) passes handlers with both sets: the first shape is used.
    assert.equal(isControllerHandler({ ...first, onRequestStart() {}, onResponseStart() {} }), false);
    assert.equal(isControllerHandler({ onRequestStart() {}, onResponseStart() {}, onResponseError() {} }), true);
  });

  it('parses raw headers: lower-case names, repeated values in order, Buffers as Latin-1', () => {
    assert.deepEqual(parseRawHeaders([Buffer.from('Set-Cookie'), Buffer.from('a=1'), 'set-cookie', 'b=2', 'X-Name', Buffer.from([0xe9])]),
      { 'set-cookie': ['a=1', 'b=2'], 'x-name': '\u00e9' });
    assert.deepEqual(parseRawHeaders(null), {});
  });

  it('Kerberos through Negotiate: the 200 with its headers and body reaches the controller handler', async () => {
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn });
    try {
      const seen = await dispatch(agent, '/');
      assert.equal(seen.error, undefined);
      assert.equal(seen.status, 200);
      assert.deepEqual(seen.headers?.['set-cookie'], ['a=1', 'b=2']);
      assert.ok((seen.rawHeaderCount ?? 0) >= 4, 'controller.rawHeaders holds the raw list');
      assert.deepEqual(JSON.parse(Buffer.concat(seen.body).toString()), { package: 'Kerberos' });
      assert.deepEqual(seen.trailers, {});
    } finally {
      await agent.close();
    }
  });

  it('a 1 MiB body arrives whole and in order while the handler pauses and resumes (controller flow control)', async () => {
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn });
    try {
      const seen = await dispatch(agent, '/big', { pauseEvery: 2 });
      assert.equal(seen.status, 200);
      assert.ok(seen.pauses > 0, 'the handler paused');
      assert.ok(Buffer.concat(seen.body).equals(big));
    } finally {
      await agent.close();
    }
  });

  it('controller.abort() in onRequestStart fails the request with that reason through onResponseError; no context left', async () => {
    const before = handleFigures().contexts;
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn });
    try {
      const reason = new Error('stop here');
      const seen = await dispatch(agent, '/', { abortAtStart: reason });
      assert.equal(seen.error, reason);
      assert.equal(seen.status, undefined);
    } finally {
      await agent.close();
    }
    assert.equal(handleFigures().contexts, before);
  });

  it("undici's request() API (a first-shape handler that parses the trailers it is given): 200 and the body", async () => {
    // deliver() used to end with onComplete(null), which request()'s handler passes to parseHeaders: a TypeError.
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn });
    try {
      const res = await agent.request({ origin: base, path: '/', method: 'GET' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(await res.body.json(), { package: 'Kerberos' });
      assert.deepEqual(res.trailers, {});
    } finally {
      await agent.close();
    }
  });

  it('a closed agent reports ERR_SSPI_AGENT_CLOSED through onResponseError', async () => {
    const agent = new NegotiateAgent({ origins: [base], spn: bed.spn });
    await agent.close();
    const seen = await dispatch(agent, '/');
    assert.ok(seen.error instanceof NegotiateClientError);
    assert.equal((seen.error as NegotiateClientError).code, 'ERR_SSPI_AGENT_CLOSED');
  });
});
