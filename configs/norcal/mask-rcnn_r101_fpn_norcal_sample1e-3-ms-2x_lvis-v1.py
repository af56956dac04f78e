# mask-rcnn_r50_fpn_norcal_sample1e-3-ms-2x_lvis-v1 with ResNet-101 (the model of
# ../lvis/mask-rcnn_r101_fpn_ce_sample1e-3-ms-2x_lvis-v1.py, tested with NorCal).
_base_ = './mask-rcnn_r50_fpn_norcal_sample1e-3-ms-2x_lvis-v1.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
