#!/usr/bin/env node
// The whole test suite: type check, lint, then every Jest tier (unit, int, e2e) against the real stack,
// which the int/e2e global setup installs and starts if needed. Ends with one line: "N passed, N failed".
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const extraArgs = process.argv.slice(2);
if (!fs.existsSync(bin('jest'))) {
  process.stdout.write('== installing node modules\n');
  if (spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' }).status !== 0) {
    process.stdout.write('\n0 passed, 1 failed\n');
    process.exit(1);
  }
}
// Node modules installed before a patch was added (patches/) lack it: apply what is missing (idempotent).
if (spawnSync(bin('patch-package'), [], { cwd: root, stdio: 'ignore' }).status !== 0) {
  process.stdout.write('patches/ could not be applied to node_modules: run `npm ci`\n\n0 passed, 1 failed\n');
  process.exit(1);
}
let passed = 0;
let failed = 0;

function step(name, command, args) {
  process.stdout.write(`\n== ${name}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status === 0) passed++;
  else {
    failed++;
    process.stdout.write(`${name} FAILED\n`);
  }
}

if (extraArgs.length === 0) {
  step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  // Nx's module-boundary rule reads the project graph, which `nx show projects` computes and caches.
  spawnSync(bin('nx'), ['show', 'projects'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } });
  step('lint', bin('eslint'), ['.']);
}

fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
const report = path.join(root, 'test-results/jest.json');
fs.rmSync(report, { force: true });
process.stdout.write('\n== jest (unit, int, e2e)\n');
// In band: the int and e2e tiers start real services, and this machine has two cores.
// --forceExit: every tier runs in this one process, and a client a test forgot to close (a Kafka
// consumer's socket, a keep-alive connection) must not hold the whole run open until CI's time-out;
// the results are written before it exits.
spawnSync(bin('jest'), ['--runInBand', '--forceExit', '--json', `--outputFile=${report}`, ...extraArgs], { cwd: root, stdio: 'inherit' });
if (fs.existsSync(report)) {
  const results = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  // A suite that fails before its tests run (a setup error) counts as one failure.
  failed += results.testResults.filter((r) => r.status === 'failed' && r.assertionResults.every((a) => a.status !== 'failed')).length;
} else {
  failed++;
  process.stdout.write('jest produced no report\n');
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
