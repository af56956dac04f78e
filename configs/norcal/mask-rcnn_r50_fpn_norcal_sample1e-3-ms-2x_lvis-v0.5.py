# NorCal (Pan et al., NeurIPS 2021), post-hoc: the softmax cross-entropy Mask R-CNN R50-FPN of
# ../lvis/mask-rcnn_r50_fpn_ce_sample1e-3-ms-2x_lvis-v0.5.py (LVIS v0.5, repeat factor sampling t = 1e-3, 2x), tested
# with NorCal's calibrated scores (the official config: tydpan/NorCal projects/NorCal/configs/
# lvis_v0.5_mask_rcnn_R_50_FPN.yaml); see the LVIS v1 config. The R101 config inherits this file.
_base_ = '../lvis/mask-rcnn_r50_fpn_ce_sample1e-3-ms-2x_lvis-v0.5.py'
model = dict(roi_head=dict(bbox_head=dict(
    type='CalibratedBBoxHead',  # base_type='Shared2FCBBoxHead' (the base's head), calibrated test scores
    calibration=dict(type='FRACALCalibration', mode='norcal', class_stats={{_base_.class_stats}}, gamma=0.4343))))
