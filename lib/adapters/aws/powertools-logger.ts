/**
 * The logger of the AWS roles (Lambda functions and the Fargate querynode): the Powertools for AWS
 * Lambda logger, which writes one JSON object per line to stdout for CloudWatch Logs (with its
 * timestamp, level and service). Migrans's fields (collection, channel, segment, requestId, error)
 * go in under the same names as the embedded logger's, so one query reads both. The level is
 * MIGRANS_LOG_LEVEL as resolved by lib/config.ts (default info).
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { SinkLogger, type LogLevel, type Logger } from '../../engine/ports/logger.ts';

/** How the powertools logger is set up. */
export interface PowertoolsLoggerOptions {
  /** Default info. */
  level?: LogLevel;
  /** The `service` of every line (default migrans). */
  serviceName?: string;
}

/** A Logger writing through the Powertools logger. */
export function powertoolsLogger(options: PowertoolsLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  // Our SinkLogger filters; powertools gets the same level so its own sampling rules agree.
  const pt = new PowertoolsLogger({ serviceName: options.serviceName ?? 'migrans', logLevel: level });
  return new SinkLogger((e) => pt[e.level](e.message, e.fields), level);
}
