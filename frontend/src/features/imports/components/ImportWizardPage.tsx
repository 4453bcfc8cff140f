import { useState } from 'react';
import { useSearchParams } from 'react-router';

import type { ImportFile } from '../../../api/types';
import { PageHeader } from '../../../components/layout/PageHeader';
import { Button, ErrorNotice, Spinner } from '../../../components/ui';
import { useLiveStatus } from '../../../live/hooks';
import { useImport } from '../api';
import { lastPhase } from '../progress';
import { MappingStep } from './MappingStep';
import { StageStep } from './StageStep';
import { Stepper, type StepId } from './Stepper';
import { UploadStep } from './UploadStep';
import { ValidateStep } from './ValidateStep';

/** Returns the step that shows an import in its current status. */
export function stepOfImport(imported: ImportFile): StepId {
  switch (imported.status) {
    case 'uploaded':
      return 'upload';
    case 'mapped':
      return 'map';
    case 'validating':
    case 'validated':
      return 'validate';
    case 'staging':
    case 'staged':
      return 'stage';
    case 'failed':
    case 'cancelled':
      return lastPhase(imported) === 'staging' ? 'stage' : 'validate';
  }
}

/** Returns the steps the operator may open; a running staging or a staged import shows only its batch. */
export function reachableSteps(imported: ImportFile | undefined): Set<StepId> {
  const steps = new Set<StepId>(['upload']);
  if (imported === undefined) {
    return steps;
  }
  if (imported.status === 'staged' || imported.status === 'staging') {
    return new Set(['stage']);
  }
  steps.add('map');
  const validationJob = imported.status === 'validating' || stepOfImport(imported) === 'validate';
  if (imported.validation !== null || validationJob) {
    steps.add('validate');
  }
  if (imported.validation !== null && imported.validation.valid_rows > 0 && imported.status !== 'validating') {
    steps.add('stage');
  }
  return steps;
}

/** Upload, map, validate and stage a contact file; the import id is kept in the URL. */
export function ImportWizardPage() {
  const [searchParams, setSearchParams] = useSearchParams();
  const importId = searchParams.get('import');
  const imported = useImport(importId, useLiveStatus());
  const [pickedStep, setPickedStep] = useState<StepId | null>(null);

  const data = imported.data;
  const reachable = reachableSteps(data);
  const derivedStep = data === undefined ? 'upload' : stepOfImport(data);
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
