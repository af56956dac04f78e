# Seesaw loss on the LT-Shapes demo (CPU, minutes) with mmdet's NormedConv2d(tau=20) mask predictor, as mmdet's
# seesaw-loss-normed-mask configs add to the plain Seesaw ones.
_base_ = './mask-rcnn_r18-tiny_fpn_seesaw-loss_lt-shapes.py'
model = dict(roi_head=dict(mask_head=dict(
    predictor_cfg=dict(type='NormedConv2d', tempearture=20))))  # (sic) mmdet's argument name
