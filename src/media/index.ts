/**
 * `voxlite/media`: the audio half of a call that needs no network: codecs (G.711, G.722),
 * WAV files, resampling, tones, in-band DTMF detection and signal measurements.
 *
 * @remarks
 * Everything here is pure computation except {@link WavWriter}, which writes a file. PCM is
 * always 16-bit signed, interleaved when there is more than one channel.
 *
 * @packageDocumentation
 */

export {
  getCodec,
  findCodec,
  listCodecs,
  PCMU,
  PCMA,
  G722,
  encodePcmu,
  decodePcmu,
  encodePcma,
  decodePcma,
  linearToUlaw,
  ulawToLinear,
  linearToAlaw,
  alawToLinear,
  PCMU_SILENCE,
  PCMA_SILENCE,
  G722Encoder,
  G722Decoder,
  G722_SAMPLE_RATE,
  G722_RTP_CLOCK_RATE,
  G722_CODEC_DELAY,
  type Codec,
  type CodecName,
  type CodecEncoder,
  type CodecDecoder,
} from './codecs/index.js';
export {
  readWav,
  writeWav,
  toMono,
  WavWriter,
  WavFormatError,
  WAV_HEADER_SIZE,
  type PcmAudio,
  type WavFormatErrorKind,
  type WavWriterOptions,
} from './wav.js';
export { Resampler, resample, RESAMPLE_DEFAULTS, type ResampleOptions } from './resample.js';
export {
  ToneGenerator,
  createDtmfTone,
  generateDtmf,
  silence,
  isDtmfKey,
  DTMF_FREQUENCIES,
  DTMF_ROW_FREQUENCIES,
  DTMF_COLUMN_FREQUENCIES,
  DTMF_KEYPAD,
  DEFAULT_TONE_AMPLITUDE,
  type DtmfKey,
  type ToneOptions,
  type DtmfToneOptions,
  type DtmfSequenceOptions,
} from './tone.js';
export {
  DtmfDetector,
  DTMF_DETECTOR_DEFAULTS,
  type DtmfDetection,
  type DtmfDetectorOptions,
} from './dtmf-detector.js';
export {
  rms,
  rmsDbfs,
  toDb,
  normalizedCorrelation,
  bestLag,
  snrDb,
  toneAmplitude,
  FULL_SCALE,
  type Samples,
  type Alignment,
  type SnrOptions,
} from './signal.js';
