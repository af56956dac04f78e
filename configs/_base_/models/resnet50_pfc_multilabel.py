# The Distribution-Balanced loss paper's multi-label classifier: ResNet-50 (ImageNet-pretrained from torchvision,
# stem and first stage frozen, every BatchNorm of the backbone in eval mode: the official mmdet-1 ResNet's default
# norm_eval=True) -> "PFC" neck: global average pooling, fc 2048 -> 256, BatchNorm, dropout 0.5 ->
# linear multi-label head (sigmoid scores). Set head.num_classes and head.loss in the method config.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), frozen_stages=1, norm_eval=True,
                  style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='LinearNeck', in_channels=2048, out_channels=256, gap_dim=2, norm_cfg=dict(type='BN1d'),
              act_cfg=dict(type='Dropout', drop_prob=0.5)),
    head=dict(type='MultiLabelLinearClsHead', num_classes=20, in_channels=256))
