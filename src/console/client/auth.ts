/** /console/auth.js: the sign-in and registration forms. */
import { login, register } from './api.js';
import { append, field, h, type Props, showError } from './dom.js';

function input(props: Props): HTMLInputElement {
  return h('input', { required: true, ...props });
}

export function authView(root: HTMLElement, notice: string): void {
  const loginForm = h('form', { class: 'card stack', 'aria-labelledby': 'signin-title' });
  const user = input({ name: 'username', autocomplete: 'username', autocapitalize: 'none' });
  const pass = input({ name: 'password', type: 'password', autocomplete: 'current-password' });
  const loginButton = h('button', { type: 'submit' }, 'Sign in');
  append(loginForm, h('h2', { id: 'signin-title' }, 'Sign in'), field('Username or email', user), field('Password', pass), loginButton);
  loginForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    loginButton.disabled = true;
    try {
      await login(user.value.trim(), pass.value);
    } catch (err) {
      showError(loginForm, err);
      pass.focus();
    } finally {
      loginButton.disabled = false;
    }
  });

  const regForm = h('form', { class: 'card stack', 'aria-labelledby': 'register-title' });
  const rUser = input({ name: 'new-username', autocomplete: 'username', autocapitalize: 'none', minlength: 3 });
  const rEmail = input({ name: 'email', type: 'email', autocomplete: 'email' });
  const rPass = input({ name: 'new-password', type: 'password', autocomplete: 'new-password', minlength: 10 });
  const regButton = h('button', { type: 'submit' }, 'Create account');
  append(
    regForm,
    h('h2', { id: 'register-title' }, 'Create an account'),
    field('Username', rUser),
    field('Email', rEmail),
    field('Password', rPass, 'At least 10 characters and hard to guess: the server explains a rejection.'),
    regButton,
  );
  regForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    regButton.disabled = true;
    try {
      await register(rUser.value.trim(), rEmail.value.trim(), rPass.value);
    } catch (err) {
      showError(regForm, err);
    } finally {
      regButton.disabled = false;
    }
  });

  append(
    root,
    h('h1', { tabindex: '-1' }, 'Document Workflow Chain console'),
    notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
    h('div', { class: 'grid-2' }, loginForm, regForm),
  );
  user.focus();
}
