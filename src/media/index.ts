/**
 * `voxlite/media`: the audio half of a call that needs no network: codecs (G.711, G.722, Opus),
 * WAV files, resampling, tones, in-band DTMF detection and signal measurements, and the
 * sources and sinks a call plays from and records to.
 *
 * @remarks
 * The codecs, resampler, tones and measurements are pure computation. The ports
 * ({@link MediaSource}, {@link MediaSink}) add I/O: WAV files, and child processes for the
 * sound device (`sox`), text-to-speech (`espeak-ng`, or `flite`) and phrase recognition
 * (`pocketsphinx`). This folder is the only place in voxlite that starts child processes.
 * PCM is always 16-bit signed, interleaved when there is more than one channel.
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
  OPUS,
  createOpusCodec,
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
  OpusEncoder,
  OpusDecoder,
  OpusCodecError,
  opusEncoderOptionsFromFmtp,
  opusPacketSamples,
  prepareOpus,
  openOpusCodecs,
  OPUS_RTP_CLOCK_RATE,
  OPUS_SAMPLE_RATE,
  OPUS_SDP_CHANNELS,
  OPUS_FMTP,
  OPUS_DEFAULT_BITRATE,
  OPUS_CODEC_DELAY,
  OPUS_FRAME_DURATIONS_MS,
  type OpusEncoderOptions,
  type OpusOperation,
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
export {
  DEFAULT_FRAME_FORMAT,
  resolveFrameFormat,
  checkSampleRate,
  readFrames,
  type FrameFormat,
  type MediaSource,
  type MediaSink,
  type SourceFormatOptions,
} from './port.js';
export {
  MEDIA_TOOLS,
  MediaToolMissingError,
  MediaProcessError,
  findExecutable,
  checkMediaTool,
  activeMediaProcesses,
  type MediaTool,
  type MediaProcessFailure,
} from './tools.js';
export {
  buildSoxCaptureArgs,
  buildSoxPlaybackArgs,
  SOX_DEVICE_DEFAULTS,
  type SoxDeviceOptions,
} from './sox.js';
export { SilenceSource, type SilenceSourceOptions } from './sources/silence.js';
export { ToneSource, type ToneSourceOptions } from './sources/tone.js';
export { PcmSource, type PcmSourceOptions } from './sources/pcm.js';
export { WavFileSource, type WavFileSourceOptions } from './sources/wav-file.js';
export {
  DeviceSource,
  DEVICE_SOURCE_DEFAULTS,
  type DeviceSourceOptions,
  type DeviceSourceEvents,
} from './sources/device.js';
export {
  SpeechSource,
  synthesizeSpeech,
  SPEECH_DEFAULTS,
  type SpeechEngine,
  type SpeechSynthesisOptions,
  type SpeechSourceOptions,
} from './sources/speech.js';
export { NullSink, type NullSinkOptions } from './sinks/null.js';
export { WavFileSink, type WavFileSinkOptions } from './sinks/wav-file.js';
export {
  DeviceSink,
  DEVICE_SINK_DEFAULTS,
  type DeviceSinkOptions,
  type DeviceSinkEvents,
} from './sinks/device.js';
export {
  SpeechRecognizer,
  normalizePhrase,
  buildPhraseGrammar,
  buildRecognizerArgs,
  POCKETSPHINX_DEFAULT_MODEL,
  RECOGNIZER_DECODER_RATE,
  RECOGNIZER_DEFAULTS,
  type SpeechRecognizerOptions,
  type SpeechRecognizerEvents,
  type RecognizedPhrase,
} from './sinks/recognizer.js';
export { Loopback, LOOPBACK_DEFAULTS, type LoopbackOptions } from './sinks/loopback.js';
