"""Post-hoc, test-time calibration of a trained detector's class scores: FRACAL and NorCal (``FRACALCalibration``),
applied by ``CalibratedBBoxHead`` (``ltmm.det.heads``)."""
from .fracal_calibration import FRACALCalibration

__all__ = ['FRACALCalibration']
