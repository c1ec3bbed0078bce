// The operator's and the device's side of registration, through the real @c8y/client.
//
// Run by tests/clients/test_c8y_client.py against a Gatehouse server:
//   GATEHOUSE_URL=... ADMIN_PASSWORD=... BOOTSTRAP_PASSWORD=... CSV_FILE=... node scenario.js
// Prints one JSON object: for every step, what the client returned or threw.
// Nothing here knows Gatehouse: these are the calls a Cumulocity script makes.
'use strict';

const { BasicAuth, Client } = require('@c8y/client');

const url = process.env.GATEHOUSE_URL;
const client = new Client(
  new BasicAuth({ tenant: 'management', user: 'admin', password: process.env.ADMIN_PASSWORD }),
  url
);
const bootstrapAuth = {
  basicAuth: { user: 'management/devicebootstrap', pass: process.env.BOOTSTRAP_PASSWORD }
};
const steps = {};

// A step's outcome: the status and body it answered, or the status and body it threw with.
async function step(name, call) {
  try {
    const { res, data, paging } = await call();
    steps[name] = { ok: true, status: res.status, data, paging: paging && pagingOf(paging) };
  } catch (thrown) {
    const res = thrown && thrown.res;
    steps[name] = {
      ok: false,
      status: res ? res.status : null,
      data: thrown && thrown.data !== undefined ? thrown.data : String(thrown)
    };
  }
  return steps[name];
}

function pagingOf(paging) {
  return {
    currentPage: paging.currentPage,
    nextPage: paging.nextPage,
    pageSize: paging.pageSize,
    totalPages: paging.totalPages
  };
}

async function main() {
  const registration = client.deviceRegistration;
  for (let n = 1; n <= 7; n++) {
    await step(`create ${n}`, () => registration.create({ id: `c8y-dev-${n}` }));
  }

  // Several pages: the client follows its own paging (currentPage from the next link).
  const pages = [];
  let result = await registration.list({ pageSize: 3, withTotalPages: true });
  pages.push({ ids: result.data.map(r => r.id), paging: pagingOf(result.paging) });
  while (result.paging.nextPage) {
    result = await result.paging.next();
    pages.push({ ids: result.data.map(r => r.id), paging: pagingOf(result.paging) });
  }
  steps.pages = pages;

  await step('detail', () => registration.detail('c8y-dev-1'));
  await step('first contact with a token', () =>
    registration.bootstrap('c8y-dev-1', bootstrapAuth, 'printed-token')
  );
  await step('first contact 2', () => registration.bootstrap('c8y-dev-2', bootstrapAuth));
  await step('first contact 3', () => registration.bootstrap('c8y-dev-3', bootstrapAuth));
  await step('accept with a wrong token', () =>
    registration.accept({ id: 'c8y-dev-1', securityToken: 'a-guess' })
  );
  await step('accept with the right token', () =>
    registration.accept('c8y-dev-1', 'printed-token')
  );
  await step('credentials', () =>
    registration.bootstrap('c8y-dev-1', bootstrapAuth, 'printed-token')
  );
  await step('accept all', () => registration.acceptAll());
  await step('delete', () => registration.delete('c8y-dev-7'));
  await step('detail of the deleted', () => registration.detail('c8y-dev-7'));
  await step('limit', () => registration.limit());

  const fs = require('fs');
  await step('bulk', () => client.deviceRegistrationBulk.create(fs.createReadStream(process.env.CSV_FILE)));

  const options = client.options.tenant;
  const policy = { category: 'device-registration', key: 'security-token.policy' };
  await step('set the policy', () => options.create({ ...policy, value: 'REQUIRED' }));
  await step('read the policy', () => options.detail(policy));
  await step('update the policy', () => options.update({ ...policy, value: 'IGNORED' }));
  await step('list the options', () => options.list({ pageSize: 10 }));
  await step('refused value', () => options.update({ ...policy, value: 'SOMETIMES' }));
  await step('update it back', () => options.update({ ...policy, value: 'REQUIRED' }));

  process.stdout.write(JSON.stringify(steps));
}

main().catch(error => {
  process.stderr.write(`scenario failed: ${error && error.stack ? error.stack : JSON.stringify(error)}\n`);
  process.exit(1);
});
