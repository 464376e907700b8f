/**
 * Typed errors that carry their HTTP status. Services throw them; the one error middleware turns
 * them into an HTML page or a JSON body. Messages are written for the person who sees them.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 400 with one reason per field. */
export class ValidationError extends HttpError {
  constructor(fields: Record<string, string>, message = 'Some fields need attention.') {
    super(400, message, fields);
    this.name = 'ValidationError';
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message = 'Please sign in to continue.') {
    super(401, message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message = 'Your role does not allow this.') {
    super(403, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'There is nothing here.') {
    super(404, message);
  }
}

export class ConflictError extends HttpError {
  constructor(message: string, fields: Record<string, string> = {}) {
    super(409, message, fields);
  }
}

export class GoneError extends HttpError {
  constructor(message = 'This link has expired or was withdrawn.') {
    super(410, message);
  }
}
