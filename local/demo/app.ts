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
    await showAccess(c.accessKeyId);
  } catch (error) {
    showError(error);
  }
});

interface Access {
  readonly principalTags: Readonly<Record<string, string>>;
  readonly rows: ReadonlyArray<{ request: string; action: string; decision: string }>;
}

/** The offline stack's access table for these credentials (not a broker route: /demo/access). */
async function showAccess(accessKeyId: string): Promise<void> {
  const response = await fetch(`/demo/access?${new URLSearchParams({ accessKeyId })}`);
  if (!response.ok) return;
  const access = (await response.json()) as Access;
  $('principal-tags').textContent = Object.entries(access.principalTags)
    .map(([tag, value]) => `${tag}=${value}`)
    .join(' ');
  $('access-rows').replaceChildren(
    ...access.rows.map((row) => {
      const tr = document.createElement('tr');
      for (const text of [row.request, row.action, row.decision]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      tr.lastElementChild?.setAttribute('class', row.decision.split(' ')[0] ?? '');
      return tr;
    }),
  );
  $('access').hidden = false;
}

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
