import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';

import { Button, TextField } from '../../../components/ui';
import { useAuthOptions, useSignup } from '../api';
import { AuthLayout } from './AuthLayout';
import { formErrorsFrom, NO_ERRORS } from './fieldErrors';

const FIELDS = ['email', 'password', 'name'] as const;
const MIN_PASSWORD_LENGTH = 10;

export function SignupPage() {
  const navigate = useNavigate();
  const signup = useSignup();
  const options = useAuthOptions();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const errors = signup.error ? formErrorsFrom(signup.error, FIELDS) : NO_ERRORS;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmedName = name.trim();
    signup.mutate(
      { email, password, ...(trimmedName ? { name: trimmedName } : {}) },
      { onSuccess: () => navigate('/', { replace: true }) },
    );
  }

  if (options.data?.signup === false) {
    return (
      <AuthLayout title="Sign-up is closed">
        <p data-testid="signup-closed">
          This server does not take new sign-ups. Ask its administrator to create an account for you.
        </p>
        <p className="auth-card__switch">
          Already have an account? <Link to="/login">Sign in</Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Create your account">
      <form className="form" onSubmit={submit} noValidate>
        {errors.form !== null && (
          <div className="notice notice--error" role="alert">
            {errors.form}
          </div>
        )}
        <TextField
          label="Name (optional)"
          autoComplete="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          error={errors.fields.name}
        />
        <TextField
          label="Email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={errors.fields.email}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          minLength={MIN_PASSWORD_LENGTH}
          hint={`At least ${MIN_PASSWORD_LENGTH} characters.`}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={errors.fields.password}
        />
        <Button type="submit" variant="primary" busy={signup.isPending} className="button--block">
          Create account
        </Button>
      </form>
      <p className="auth-card__switch">
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </AuthLayout>
  );
}
