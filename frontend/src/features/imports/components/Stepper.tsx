export type StepId = 'upload' | 'map' | 'validate' | 'stage';

export const STEPS: { id: StepId; label: string }[] = [
  { id: 'upload', label: 'Upload' },
  { id: 'map', label: 'Map columns' },
  { id: 'validate', label: 'Validate' },
  { id: 'stage', label: 'Stage and launch' },
];

interface StepperProps {
  current: StepId;
  /** Steps the user may go back or forward to. */
  reachable: ReadonlySet<StepId>;
  onSelect: (step: StepId) => void;
}

export function Stepper({ current, reachable, onSelect }: StepperProps) {
  const currentIndex = STEPS.findIndex((step) => step.id === current);
  return (
    <nav aria-label="Import steps">
      <ol className="stepper">
        {STEPS.map((step, index) => {
          const state = index < currentIndex ? 'done' : index === currentIndex ? 'current' : 'todo';
          return (
            <li key={step.id} className={`stepper__step stepper__step--${state}`}>
              <button
                type="button"
                className="stepper__button"
                aria-current={state === 'current' ? 'step' : undefined}
                disabled={state === 'current' || !reachable.has(step.id)}
                onClick={() => onSelect(step.id)}
              >
                <span className="stepper__number" aria-hidden="true">
                  {index + 1}
                </span>
                {step.label}
              </button>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
