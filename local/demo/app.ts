// The demo page's script: everything it asks of the broker goes through the client module
// (client/index.ts), bundled for the browser by the offline stack (local/demo/serve.ts).
import { createBrokerClient, SignInRequiredError } from '../../client/index.ts';

const broker = createBrokerClient({ baseUrl: '' });

function $(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element;
}

const mask = (value: string): string => `${value.slice(0, 4)}…${value.slice(-4)}`;

function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const alert = $('error');
  alert.textContent = message;
  if (error instanceof SignInRequiredError && error.loginUrl !== undefined) {
    const link = document.createElement('a');
    link.href = error.loginUrl;
    link.textContent = 'Sign in again';
    link.dataset.testid = 'sign-in-again';
    alert.append(' ', link);
  }
}

async function render(): Promise<void> {
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
      `IdentityId       ${c.identityId}`,
      `AccessKeyId      ${mask(c.accessKeyId)}`,
      `SecretAccessKey  ${mask(c.secretAccessKey)}`,
      `Expiration       ${c.expiration.toISOString()}`,
    ].join('\n');
  } catch (error) {
    showError(error);
  }
});

$('logout').addEventListener('click', async () => {
  try {
    window.location.assign(await broker.signOut());
  } catch (error) {
    showError(error);
  }
});

document.querySelectorAll<HTMLAnchorElement>('a[data-provider]').forEach((link) => {
  link.href = broker.signInUrl(link.dataset.provider ?? '', '/');
});

// An error from the sign-in comes back as a page of its own; this one only shows API errors.
render().catch(showError);
