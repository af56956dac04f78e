# ResNeXt-50 (32x4d) + global average pooling + linear classifier with softmax cross-entropy: the backbone of the
# classifier-balancing (Kang et al., ICLR 2020) ImageNet-LT results and of the long-tail survey's table.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNeXt', depth=50, num_stages=4, out_indices=(3, ), groups=32, width_per_group=4,
                  style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
