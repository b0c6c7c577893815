'use strict';
// Mocha's spec reporter, plus a summary file ({ passes, failures, pending }) at $SSPI_TEST_SUMMARY,
// from which scripts/test.sh adds up the suite inside Wine and the one on Linux into one
// "N passed, N failed" line.
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const file = process.env.SSPI_TEST_SUMMARY;
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      if (!file) return;
      const { passes, failures, pending } = this.stats;
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending }));
    });
  }
}

module.exports = SummaryReporter;
