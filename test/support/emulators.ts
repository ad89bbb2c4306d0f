/** The AWS emulator launcher for tests (lives in localstack/ with the rest of the emulator setup). */
export { ALL_SERVICES, EMULATOR_BUCKET, freshEmulatorConfig, startEmulators, type EmulatedService, type EmulatorOptions, type Emulators } from '../../localstack/emulators.ts';
