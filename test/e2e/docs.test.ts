import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as ts from 'typescript';

// The API reference (issue 10): TypeDoc builds it from the TSDoc of the package's entry points
// (typedoc.json; `npm run docs` writes docs/api/). Here TypeDoc runs with the repository's own
// configuration plus --treatWarningsAsErrors, into a temporary directory: a broken {@link}, an
// exported symbol left undocumented (within the scope typedoc.json's requiredToBeDocumented sets),
// or a type the docs reference but the package does not export fails the test with TypeDoc's words.

const repo = path.resolve(__dirname, '..', '..', '..');
const typedocBin = path.join(repo, 'node_modules', 'typedoc', 'bin', 'typedoc');

interface TypedocConfig {
  entryPoints: string[];
  validation: Record<string, boolean>;
  requiredToBeDocumented: string[];
  out: string;
}

/** Runs TypeDoc (Linux Node) in `cwd` with `args`; resolves with its exit code and its output, colours off. */
function typedoc(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [typedocBin, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

/** TypeDoc's warning and error lines (each problem is one line, followed by context lines for some). */
function problems(output: string): string[] {
  return output.split('\n').filter((l) => /\[(warning|error)\]/.test(l) && !/Found \d+ errors and \d+ warnings/.test(l));
}

describe('API reference: TypeDoc over the TSDoc, validated (typedoc.json)', function () {
  this.timeout(120_000);
  // typedoc.json has comments (JSONC, as TypeDoc reads it): TypeScript's own parser reads it here.
  const parsed = ts.parseConfigFileTextToJson('typedoc.json', fs.readFileSync(path.join(repo, 'typedoc.json'), 'utf8'));
  if (parsed.error) throw new Error(ts.flattenDiagnosticMessageText(parsed.error.messageText, '\n'));
  const config = parsed.config as TypedocConfig;
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { require?: { types?: string }; types?: string }>;
    scripts: Record<string, string>;
  };

  it('documents every entry point of the package exports map, and validates links, exports and docs', () => {
    // Each "exports" subpath with types (".", "./raw", "./fastify") is documented from its source.
    const fromExports = Object.values(pkg.exports)
      // The CommonJS face's declarations (each entry has `require.types` .d.ts and `import.types` .d.mts).
      .map((e) => (typeof e === 'object' ? e.require?.types ?? e.types : undefined))
      .filter((t): t is string => typeof t === 'string')
      .map((t) => t.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'))
      .sort();
    assert.ok(fromExports.length >= 3, `exports: ${JSON.stringify(pkg.exports)}`);
    assert.deepEqual([...config.entryPoints].sort(), fromExports);
    assert.deepEqual(config.validation, { notExported: true, invalidLink: true, notDocumented: true });
    for (const kind of ['Function', 'Class', 'Interface', 'Method', 'TypeAlias', 'Variable', 'Enum']) {
      assert.ok(config.requiredToBeDocumented.includes(kind), `requiredToBeDocumented lacks ${kind}`);
    }
    assert.equal(config.out, 'docs/api');
    assert.match(pkg.scripts.docs ?? '', /^typedoc\b/, '`npm run docs` runs TypeDoc with typedoc.json');
    const gitignore = fs.readFileSync(path.join(repo, '.gitignore'), 'utf8').split('\n');
    assert.ok(gitignore.includes('docs/api/'), 'the generated reference is not committed');
  });

  it('the validation fails on an undocumented export and a broken {@link} (so a pass means something)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-docs-bad-'));
    try {
      fs.writeFileSync(path.join(dir, 'index.ts'), [
        '/** Documented, but links to {@link NoSuchThing}. */',
        'export function linked(): void {}',
        'export function undocumented(): void {}',
        '',
      ].join('\n'));
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true }, files: ['index.ts'] }));
      const { code, output } = await typedoc(dir, [
        // --disableSources as typedoc.json: source links would look for the git remote of every file,
        // @types/node's included (this repository's clone, whose origin is no GitHub URL: a warning).
        '--entryPoints', 'index.ts', '--tsconfig', 'tsconfig.json', '--out', path.join(dir, 'out'), '--readme', 'none', '--name', 'bad', '--disableSources',
        '--validation.notExported', '--validation.invalidLink', '--validation.notDocumented', '--treatWarningsAsErrors',
      ]);
      assert.notEqual(code, 0, output);
      assert.match(output, /\bundocumented \((Function|CallSignature)\).*does not have any documentation/, output);
      assert.match(output, /Failed to resolve link to "NoSuchThing"/, output);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the package\'s TSDoc passes: no broken link, no undocumented export, no unexported referenced type', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-docs-'));
    try {
      const { code, output } = await typedoc(repo, ['--options', 'typedoc.json', '--out', out, '--treatWarningsAsErrors']);
      assert.deepEqual(problems(output), [], output);
      assert.equal(code, 0, output);
      // The three entry points are modules of the generated reference.
      const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
      for (const name of ['index', 'raw', 'http/adapters/fastify']) assert.ok(index.includes(`>${name}<`), `module ${name} in index.html`);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

/**
 * The project's TSDoc rule (DEVELOPERS.md, "TSDoc"): a public function that calls SSPI or another Win32
 * function names it with its Microsoft doc link, and says what it throws, rejects with or returns. An
 * asynchronous twin or a convenience method may instead link ({@link}) to the function whose TSDoc does.
 * "Calls" is read from the code, with TypeScript's checker: the body calls a function of the public raw
 * layer (lib/raw, an SSPI/Win32 name in PascalCase) or a method of an addon binding interface.
 */
describe('TSDoc: every public function that calls SSPI or Win32 names it with its Microsoft doc link', () => {
  const entries = ['lib/index.ts', 'lib/raw/index.ts'].map((f) => path.join(repo, f));
  const program = ts.createProgram(entries, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const inRaw = (file: string): boolean => /[\\/]lib[\\/](raw[\\/][^\\/]+|native)\.ts$/.test(file);
  /** Addon binding methods and raw helpers that call no Windows function: the addon's own counters and queue, a macro. */
  const NOT_WINDOWS = new Set(['handleFigures', 'certificateFigures', 'tokenHandleCount', 'queueFigures', 'configureQueue', 'HRESULT_FROM_WIN32']);

  /** The SSPI/Win32 calls in a function's body, by name. */
  function systemCalls(fn: ts.FunctionLikeDeclaration): string[] {
    const found = new Set<string>();
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
        let symbol = checker.getSymbolAtLocation(callee);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        const decl = symbol?.declarations?.[0];
        if (symbol && decl && inRaw(decl.getSourceFile().fileName)) {
          const rawFunction = ts.isFunctionDeclaration(decl) && /^[A-Z]/.test(symbol.name);
          const bindingMethod = (ts.isMethodSignature(decl) || ts.isPropertySignature(decl)) && ts.isInterfaceDeclaration(decl.parent);
          if ((rawFunction || bindingMethod) && !NOT_WINDOWS.has(symbol.name)) found.add(symbol.name);
        }
      }
      ts.forEachChild(node, visit);
    };
    if (fn.body) visit(fn.body);
    return [...found];
  }

  /** Each exported function and public method of the package's two entry points with SSPI/Win32 calls. */
  function callers(): { name: string; file: string; calls: string[]; doc: string }[] {
    const out: { name: string; file: string; calls: string[]; doc: string }[] = [];
    const seen = new Set<ts.Node>();
    const add = (name: string, fn: ts.FunctionLikeDeclaration): void => {
      if (seen.has(fn)) return;
      seen.add(fn);
      const calls = systemCalls(fn);
      const source = fn.getSourceFile();
      if (calls.length) out.push({ name, file: path.relative(repo, source.fileName), calls, doc: source.text.slice(fn.getFullStart(), fn.getStart()) });
    };
    for (const entry of entries) {
      for (let symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!)) {
        if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        const decl = symbol.declarations?.[0];
        if (!decl) continue;
        if (ts.isFunctionDeclaration(decl)) add(symbol.name, decl);
        if (!ts.isClassDeclaration(decl)) continue;
        for (const m of decl.members) {
          const hidden = ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected);
          if (hidden || !(ts.isMethodDeclaration(m) || ts.isConstructorDeclaration(m) || ts.isGetAccessor(m))) continue;
          add(`${symbol.name}.${m.name?.getText() ?? 'constructor'}`, m);
        }
      }
    }
    return out;
  }

  it('finds the callers (the check reads real code: the raw layer and the facade both have them)', () => {
    const names = callers().map((c) => c.name);
    for (const name of ['InitializeSecurityContext', 'AcceptSecurityContext', 'Credentials.acquire', 'SecurityContext.dispose', 'AccessToken.ofProcess']) {
      assert.ok(names.includes(name), `${name} among ${names.length} callers`);
    }
  });

  it('each names the call with a learn.microsoft.com link (or links to a function that does) and says what it throws or returns', () => {
    // A twin's TSDoc starts with the link to the function it repeats: '{@link X} on the SSPI call queue',
    // 'EncryptMessage: {@link message.wrap} on this context'.
    const twin = (doc: string): boolean => /^(\w+: )?\{@link [^}]+\}/.test(doc.replace(/^\s*\/\*\*/, '').replace(/^\s*\*\s?/gm, '').trimStart());
    const bad = callers()
      .filter(({ doc }) => !twin(doc) && (!/learn\.microsoft\.com\//.test(doc) || !/@throws|@rejects|@returns|[Nn]ever throws/.test(doc)))
      .map(({ name, file, calls }) => `${name} (${file}) calls ${calls.join(', ')}`);
    assert.deepEqual(bad, []);
  });
});
