"""Exception types raised where data enters the pipeline.

Every error says what was received and what was expected, so that a batch run can
put it in its errors table and a person can act on it.
"""


class EcgInputError(ValueError):
    """Base class for problems with an input recording or its settings."""


class RecordNotFoundError(EcgInputError):
    """The record's header (or EDF file) does not exist."""


class MissingSignalFileError(EcgInputError):
    """The header names a signal file that does not exist."""


class TruncatedSignalError(EcgInputError):
    """The signal file holds fewer samples than its header declares."""


class HeaderMismatchError(EcgInputError):
    """The header disagrees with the signal data (checksums, initial values, lengths)."""


class AnnotationMismatchError(EcgInputError):
    """The reference annotations do not fit the signal (beats past its end, repeated or out of order)."""


class UnsupportedFormatError(EcgInputError):
    """The storage format or file type cannot be read."""


class CorruptRecordError(EcgInputError):
    """The header or signal file cannot be parsed at all."""


class NoEcgLeadError(EcgInputError):
    """The record holds no signal that can be used as an ECG lead."""


class SamplingRateError(EcgInputError):
    """The sampling rate is outside the supported range."""


class SignalTooShortError(EcgInputError):
    """The signal is empty or shorter than the minimum the stage needs."""


class RecordTooLargeError(EcgInputError):
    """The record is too long to analyse at once in the memory this machine has."""


class DataDirectoryError(EcgInputError):
    """A data directory is missing, incomplete or fails verification."""
