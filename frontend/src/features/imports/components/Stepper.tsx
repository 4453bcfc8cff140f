export type StepId = 'upload' | 'map' | 'validate' | 'stage';

export const STEPS: { id: StepId; label: string }[] = [
  { id: 'upload', label: 'Upload' },
  { id: 'map', label: 'Map columns' },
  { id: 'validate', label: 'Validate' },
  { id: 'stage', label: 'Stage and launch' },
];

/**
 * Renders the wizard's progress. It contains no buttons, so that role queries for the
 * steps' own buttons ("Validate rows", "Launch") find one element each. Those buttons
 * also move between steps.
 */
export function Stepper({ current }: { current: StepId }) {
  const currentIndex = STEPS.findIndex((step) => step.id === current);
  return (
    <nav aria-label="Import steps">
      <ol className="stepper">
        {STEPS.map((step, index) => {
          let state = 'todo';
          if (index < currentIndex) {
            state = 'done';
          } else if (index === currentIndex) {
            state = 'current';
          }
          return (
            <li
              key={step.id}
              className={`stepper__step stepper__step--${state}`}
              aria-current={state === 'current' ? 'step' : undefined}
            >
              <span className="stepper__number" aria-hidden="true">
                {index + 1}
              </span>
              {step.label}
              {state === 'done' && <span className="visually-hidden"> (done)</span>}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
