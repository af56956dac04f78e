# mask-rcnn_r101_fpn_seesaw-loss_sample1e-3-ms-2x_lvis-v1 with mmdet's NormedConv2d(tau=20) mask predictor: mmdet's
# configs/seesaw_loss/mask-rcnn_r101_fpn_seesaw-loss-normed-mask_sample1e-3-ms-2x_lvis-v1.py (nothing
# else changes).
_base_ = './mask-rcnn_r101_fpn_seesaw-loss_sample1e-3-ms-2x_lvis-v1.py'
model = dict(roi_head=dict(mask_head=dict(
    predictor_cfg=dict(type='NormedConv2d', tempearture=20))))  # (sic) mmdet's argument name
