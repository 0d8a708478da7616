// Prints the closing line "N passed, N failed" from Vitest's JSON report.
// Skipped or todo tests count as failures: every test is meant to run in CI, the GPU ones included.
import { readFileSync } from 'node:fs';

const [file, priorStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + report.numPendingTests + report.numTodoTests;
  // Files that crashed before running any test count as one failure each.
  for (const suite of report.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.length === 0) failed += 1;
  }
  if (report.numPendingTests > 0) console.log(`ci: ${report.numPendingTests} skipped test(s) counted as failed`);
} catch (error) {
  console.log(`ci: no test report (${error.message})`);
  failed += 1;
}
if (Number(priorStatus) !== 0 && failed === 0) {
  console.log('ci: typecheck, lint, adapter check or the test run failed (see above)');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
