'use strict';
// Prints the test bed description (test/support/env.ts) from the environment scripts/domain.sh env
// exports, as UTF-8 JSON for the suites.
const path = require('node:path');
const e = process.env;
const need = (k) => {
  if (!e[k]) throw new Error(`${k} is not set: eval "$(scripts/domain.sh env)" first`);
  return e[k];
};
const root = path.resolve(__dirname, '..');
process.stdout.write(JSON.stringify({
  realm: need('SSPI_REALM'),
  domain: need('SSPI_DOMAIN'),
  host: need('SSPI_HOST'),
  spn: need('SSPI_SPN'),
  users: [
    { name: need('SSPI_USER'), password: need('SSPI_PASSWORD') },
    { name: need('SSPI_USER2'), password: need('SSPI_PASSWORD2') },
  ],
  ccache: need('KRB5CCNAME'),
  stateDir: e.SSPI_STATE_DIR || path.join(root, '.state'),
  repoDir: root,
}, null, 2) + '\n');
