# mask-rcnn_r50_fpn_bags_random-1x_lvis-v0.5 with ResNet-101, on the R101 baseline
# (../lvis/mask-rcnn_r101_fpn_ce_random-ms-1x_lvis-v0.5.py).
_base_ = './mask-rcnn_r50_fpn_bags_random-1x_lvis-v0.5.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
load_from = 'work_dirs/mask-rcnn_r101_fpn_ce_random-ms-1x_lvis-v0.5/epoch_12.pth'
