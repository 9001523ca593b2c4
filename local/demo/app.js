import { BrokerClient } from './client.js';

const broker = new BrokerClient();
const $ = (id) => document.getElementById(id);
const mask = (value) => `${value.slice(0, 4)}…${value.slice(-4)}`;
const showError = (error) => {
  $('error').textContent = error.message;
};

async function render() {
  const session = await broker.session();
  $('signed-out').hidden = session.signedIn;
  $('signed-in').hidden = !session.signedIn;
  if (!session.signedIn) return;
  $('provider').textContent = session.provider;
  $('session-expires').textContent = new Date(session.expiresAt).toLocaleString();
  $('claims').textContent = JSON.stringify({ identityId: session.identityId, ...session.claims }, null, 2);
}

$('get-credentials').addEventListener('click', async () => {
  try {
    const c = await broker.credentials();
    $('credentials').hidden = false;
    $('credentials').textContent = [
      `IdentityId       ${c.IdentityId}`,
      `AccessKeyId      ${mask(c.AccessKeyId)}`,
      `SecretAccessKey  ${mask(c.SecretAccessKey)}`,
      `Expiration       ${c.Expiration}`,
    ].join('\n');
  } catch (error) {
    showError(error);
  }
});

$('logout').addEventListener('click', async () => {
  try {
    window.location.assign(await broker.logout());
  } catch (error) {
    showError(error);
  }
});

// An error from the sign-in comes back as a page of its own; this one only shows API errors.
render().catch(showError);
