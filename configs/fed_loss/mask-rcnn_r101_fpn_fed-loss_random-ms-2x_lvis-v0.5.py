# mask-rcnn_r50_fpn_fed-loss_random-ms-1x_lvis-v0.5 with ResNet-101, 2x schedule (24 epochs).
_base_ = './mask-rcnn_r50_fpn_fed-loss_random-ms-2x_lvis-v0.5.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
