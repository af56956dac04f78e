# Cosine classifier (normed linear layer of LDAM-DRW / RIDE, logits s * cos(x, w_j), no bias, s = 30) trained with
# softmax cross-entropy: ResNet-50 on ImageNet-LT, 90 epochs (classifier-balancing's joint recipe).
# Everything else is configs/baseline/resnet50_8xb64_imagenet-lt_90e.py.
_base_ = '../baseline/resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(type='CosineClsHead', scale=30.0))
