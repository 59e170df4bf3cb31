import type { TaskDispatched } from '@flotilla/contracts';

/**
 * Fills `{{executionId}}`, `{{taskId}}`, `{{attempt}}`, `{{agentType}}`, `{{customerId}}` and
 * `{{input.<key>}}` from the task. Unknown placeholders are an error, not an empty string.
 */
export function renderTemplate(template: string, task: TaskDispatched): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_, name: string) => {
    if (name.startsWith('input.')) {
      const value = task.input[name.slice('input.'.length)];
      if (value === undefined) throw new TemplateError(`task input has no "${name.slice('input.'.length)}" for {{${name}}}`);
      return value;
    }
    switch (name) {
      case 'executionId':
        return task.executionId;
      case 'taskId':
        return task.taskId;
      case 'attempt':
        return String(task.attempt);
      case 'agentType':
        return task.agentType;
      case 'customerId':
        return task.customerId;
      default:
        throw new TemplateError(`unknown placeholder {{${name}}}`);
    }
  });
}

export class TemplateError extends Error {
  readonly errorKind = 'invalid_input';
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}
