import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';

import { Button, TextField } from '../../../components/ui';
import { safeNextPath, useAuthOptions, useLogin } from '../api';
import { AuthLayout } from './AuthLayout';
import { formErrorsFrom, NO_ERRORS } from './fieldErrors';

const FIELDS = ['email', 'password'] as const;

export function LoginPage() {
  const [searchParams] = useSearchParams();
  const navigate = useNavigate();
  const login = useLogin();
  const options = useAuthOptions();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');

  const errors = login.error ? formErrorsFrom(login.error, FIELDS) : NO_ERRORS;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    login.mutate(
      { email, password },
      { onSuccess: () => navigate(safeNextPath(searchParams.get('next')), { replace: true }) },
    );
  }

  return (
    <AuthLayout title="Sign in">
      <form className="form" onSubmit={submit} noValidate>
        {errors.form !== null && (
          <div className="notice notice--error" role="alert">
            {errors.form}
          </div>
        )}
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
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={errors.fields.password}
        />
        <Button type="submit" variant="primary" busy={login.isPending} className="button--block">
          Sign in
        </Button>
      </form>
      {options.data?.signup !== false && (
        <p className="auth-card__switch">
          No account yet? <Link to="/signup">Create one</Link>
        </p>
      )}
    </AuthLayout>
  );
}
