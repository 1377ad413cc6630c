import { slackErrorCode, slackFailureText } from './slack/slackErrors.js';

/**
 * Domain errors, thrown by services and mapped once to what the user is told
 * (`userMessage`). Anything else is a bug: logged, and the user gets a generic apology.
 */
export class DomainError extends Error {
  constructor(message: string, readonly userMessage: string = message) {
    super(message);
    this.name = new.target.name;
  }
}
export class NotFoundError extends DomainError {}
export class NotAllowedError extends DomainError {}
export class InvalidInputError extends DomainError {
  /** Per-field messages, keyed by the input's name (a modal maps them to block ids). */
  constructor(message: string, readonly fields: Record<string, string> = {}) {
    super(message);
  }
}
/** The thing was already done by someone (double click, race, retry): not an error for the store. */
export class AlreadyDoneError extends DomainError {}

export function userMessageFor(err: unknown): string {
  if (err instanceof DomainError) return err.userMessage;
  if (slackErrorCode(err) !== undefined) return slackFailureText(err);
  return 'Sorry, something went wrong on our side. Nothing you entered was lost; please try again.';
}
