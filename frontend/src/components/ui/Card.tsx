import type { ReactNode } from 'react';

interface CardProps {
  title?: ReactNode;
  /** Buttons or links shown at the right of the title. */
  actions?: ReactNode;
  /** The card that should draw the eye gets a soft white glow. */
  focal?: boolean;
  className?: string;
  children: ReactNode;
  'data-testid'?: string;
}

export function Card({ title, actions, focal = false, className, children, ...rest }: CardProps) {
  const classes = ['card', focal ? 'card--focal' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <section className={classes} data-testid={rest['data-testid']}>
      {(title !== undefined || actions !== undefined) && (
        <header className="card__header">
          {title !== undefined && <h2 className="card__title">{title}</h2>}
          {actions !== undefined && <div className="card__actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}
