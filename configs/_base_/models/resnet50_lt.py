# ResNet-50 + global average pooling + linear classifier trained with softmax cross-entropy: the joint (stage-1)
# baseline of the ImageNet-LT / iNaturalist-2018 literature. Set num_classes from the dataset base (1000 here).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
