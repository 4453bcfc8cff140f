import { useState } from 'react';
import { useSearchParams } from 'react-router';

import type { ImportFile, ImportStatus } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import { Button, ErrorNotice, Spinner } from '../../../components/ui';
import { useImport } from '../api';
import { MappingStep } from './MappingStep';
import { StageStep } from './StageStep';
import { Stepper, type StepId } from './Stepper';
import { UploadStep } from './UploadStep';
import { ValidateStep } from './ValidateStep';

const STEP_BY_STATUS: Record<ImportStatus, StepId> = {
  uploaded: 'upload',
  mapped: 'map',
  validated: 'validate',
  staged: 'stage',
};

function reachableSteps(imported: ImportFile | undefined): Set<StepId> {
  const steps = new Set<StepId>(['upload']);
  if (imported === undefined) {
    return steps;
  }
  if (imported.status === 'staged') {
    return new Set(['stage']);
  }
  steps.add('map');
  if (imported.validation !== null) {
    steps.add('validate');
    if (imported.validation.valid_rows > 0) {
      steps.add('stage');
    }
  }
  return steps;
}

/** Upload, map, validate and stage a contact file; the import id is kept in the URL. */
export function ImportWizardPage() {
  const [searchParams, setSearchParams] = useSearchParams();
  const importId = searchParams.get('import');
  const imported = useImport(importId);
  const [pickedStep, setPickedStep] = useState<StepId | null>(null);

  const data = imported.data;
  const reachable = reachableSteps(data);
  const derivedStep = data === undefined ? 'upload' : STEP_BY_STATUS[data.status];
  const step = pickedStep !== null && reachable.has(pickedStep) ? pickedStep : derivedStep;

  function startOver() {
    setPickedStep(null);
    setSearchParams({});
  }

  function onUploaded(upload: ImportFile) {
    setPickedStep('upload');
    setSearchParams({ import: upload.id });
  }

  return (
    <>
      <PageHeader
        title="Import contacts"
        description="Turn a contact file into a staged batch for one template version."
      >
        {importId !== null && <Button onClick={startOver}>Import another file</Button>}
      </PageHeader>
      <Stepper current={step} />
      {importId !== null && imported.isPending && <Spinner label="Loading import…" />}
      <ErrorNotice title="Cannot load this import." error={imported.error} />
      {step === 'upload' && (
        <UploadStep
          imported={data}
          onUploaded={onUploaded}
          onContinue={data?.status === 'staged' ? undefined : () => setPickedStep('map')}
        />
      )}
      {step === 'map' && data !== undefined && (
        <MappingStep imported={data} onValidated={() => setPickedStep('validate')} />
      )}
      {step === 'validate' && data !== undefined && (
        <ValidateStep imported={data} onBack={() => setPickedStep('map')} onContinue={() => setPickedStep('stage')} />
      )}
      {step === 'stage' && data !== undefined && <StageStep imported={data} onBack={() => setPickedStep('validate')} />}
    </>
  );
}
