# LeNet-5 + global average pooling + linear classifier with softmax cross-entropy: the Digits-LT demo model (CPU).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='LeNet5', num_classes=-1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=120,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
