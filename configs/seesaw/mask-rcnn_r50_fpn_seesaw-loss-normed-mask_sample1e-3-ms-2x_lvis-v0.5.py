# mask-rcnn_r50_fpn_seesaw-loss_sample1e-3-ms-2x_lvis-v0.5 with mmdet's NormedConv2d(tau=20) mask predictor: the LVIS
# v0.5 form of ./mask-rcnn_r50_fpn_seesaw-loss-normed-mask_sample1e-3-ms-2x_lvis-v1.py (mmdet publishes v1 only).
_base_ = './mask-rcnn_r50_fpn_seesaw-loss_sample1e-3-ms-2x_lvis-v0.5.py'
model = dict(roi_head=dict(mask_head=dict(
    predictor_cfg=dict(type='NormedConv2d', tempearture=20))))  # (sic) mmdet's argument name
