/**
 * The Windows side of the TLS end-to-end tests, run in node.exe under Wine (scripts/wine-node.sh):
 *
 *   tls-peer.js server <port> <pfx file> <password>   our TLS server (echo), prints "listening on <port>"
 *   tls-peer.js https <port> <pfx file> <password>    HTTPS on our TlsSocket + IntegratedAuthenticator with
 *                                                     channel bindings, prints "listening on <port>"
 *   tls-peer.js client <port> <servername> <ca file|-> <message>
 *                                                     our TLS client: sends the message and a newline, prints
 *                                                     "secure <protocol> <cipher>", "received: <line>" or "error <code>"
 */
import * as fs from 'node:fs';
import * as http from 'node:http';

import { Certificate } from '../../lib/certificates';
import { IntegratedAuthenticator } from '../../lib/http/server';
import { connect, createServer } from '../../lib/tls';

async function main(): Promise<void> {
  const [mode, portText, a, b, c] = process.argv.slice(2);
  const port = Number(portText);
  if (mode === 'server' || mode === 'https') {
    const certificate = await Certificate.fromPfx(fs.readFileSync(a), b);
    if (mode === 'server') {
      const server = createServer({ certificate }, (s) => {
        s.on('error', (e) => console.log(`connection error ${(e as { code?: string }).code ?? e.message}`));
        s.pipe(s);
      });
      server.on('tlsClientError', (e: Error & { code?: string }) => console.log(`tlsClientError ${e.code ?? ''} ${e.message}`));
      server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
      return;
    }
    const auth = new IntegratedAuthenticator({ channelBindings: 'tls-server-end-point', schemes: ['Negotiate'] });
    const web = http.createServer((req, res) => {
      auth.authenticate(req, res).then((id) => {
        if (!id) return;
        res.setHeader('Content-Type', 'application/json');
        res.end(`${JSON.stringify({ authenticated: true, package: id.package, user: id.user ?? null, encrypted: (req.socket as { encrypted?: boolean }).encrypted === true })}\n`);
      }, (e: Error) => {
        console.log(`authenticate error ${e.message}`);
        res.statusCode = 500;
        res.end();
      });
    });
    const tlsServer = createServer({ certificate }, (s) => {
      s.on('error', () => undefined);
      web.emit('connection', s); // HTTP on our TLS socket
    });
    tlsServer.on('tlsClientError', (e: Error) => console.log(`tlsClientError ${e.message}`));
    tlsServer.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
    return;
  }
  if (mode === 'client') {
    const socket = connect({ port, host: '127.0.0.1', servername: a, ...(b !== '-' ? { ca: [fs.readFileSync(b)] } : {}) });
    socket.on('secureConnect', () => {
      console.log(`secure ${socket.getProtocol()} ${socket.getCipher().name}`);
      socket.write(`${c}\n`);
    });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.includes('\n')) {
        console.log(`received: ${text.trimEnd()}`);
        socket.end();
      }
    });
    socket.on('error', (e: Error & { code?: string }) => {
      console.log(`error ${e.code ?? e.message}`);
      process.exitCode = 1;
    });
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e) => {
  console.log(`fatal ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(2);
});
