<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>CanvasWidget</name>
    <message>
        <source>Draw a digit here</source>
        <translation>在这里写一个数字</translation>
    </message>
    <message>
        <source>Draw one digit, as large as the square. Each stroke is classified when it ends (and a few times a second while drawing).</source>
        <translation>写一个数字，尽量占满整个方框。每一笔写完时都会识别一次（书写过程中每秒也会识别几次）。</translation>
    </message>
</context>
<context>
    <name>CompanyTable</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Alone</source>
        <translation>单独</translation>
    </message>
    <message>
        <source>With {count}
random digits</source>
        <translation>与 {count} 个
随机数字同批</translation>
    </message>
    <message>
        <source>With {count}
copies of a {digit}</source>
        <translation>与 {count} 个
{digit} 的副本同批</translation>
    </message>
    <message>
        <source>In training mode, batch normalization normalizes the drawing with the mean and
variance of the batch it is in. Alone, in a batch of varied digits or in a batch
of identical ones, the same drawing gets different answers: the answer depends
on the company. In inference mode (the correct way) it would not.</source>
        <translation>在训练模式下，批归一化用所在批次的均值和方差来归一化这幅手写数字。
单独输入、混在各不相同的数字中，或混在完全相同的数字中，
同一幅图会得到不同的答案：答案取决于与它同批的样本。
在推理模式下（正确的做法）则不会如此。</translation>
    </message>
</context>
<context>
    <name>CurvesWidget</name>
    <message>
        <source>validation set, inference mode</source>
        <translation>验证集，推理模式</translation>
    </message>
    <message>
        <source>current batch, training mode</source>
        <translation>当前批次，训练模式</translation>
    </message>
    <message>
        <source>current batch, inference mode</source>
        <translation>当前批次，推理模式</translation>
    </message>
    <message>
        <source>Training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>Training accuracy</source>
        <translation>训练准确率</translation>
    </message>
    <message>
        <source>Validation loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>Validation accuracy</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>batch: training mode</source>
        <translation>批次：训练模式</translation>
    </message>
    <message>
        <source>inference mode</source>
        <translation>推理模式</translation>
    </message>
    <message>
        <source>Top: accuracy, below: loss. Thin line: the training batch as the training step saw it (training mode). Dots: the validation set (inference mode).</source>
        <translation>上：准确率，下：损失。细线：训练步骤所见的训练批次（训练模式）。圆点：验证集（推理模式）。</translation>
    </message>
    <message>
        <source>Top: accuracy, below: loss. Thin line: the current training batch; dots: the validation set; both in inference mode.</source>
        <translation>上：准确率，下：损失。细线：当前训练批次；圆点：验证集；两者均为推理模式。</translation>
    </message>
    <message>
        <source>Dots: the validation set, every 100 batches. Faint: the raw training values behind the smoothed line.</source>
        <translation>圆点：验证集，每 100 批一次。浅色：平滑曲线背后的原始训练值。</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>batch</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>Every variant is hidden: click one in the list on the right to show it.</source>
        <translation>所有变体都已隐藏：在右侧列表中点击一个即可显示。</translation>
    </message>
    <message>
        <source>diverged</source>
        <translation>已发散</translation>
    </message>
</context>
<context>
    <name>DataDialog</name>
    <message>
        <source>given path</source>
        <translation>指定的路径</translation>
    </message>
    <message>
        <source>BNGUI_MNIST environment variable</source>
        <translation>环境变量 BNGUI_MNIST</translation>
    </message>
    <message>
        <source>Keras cache</source>
        <translation>Keras 缓存</translation>
    </message>
    <message>
        <source>{why}: {location}</source>
        <translation>{why}：{location}</translation>
    </message>
    <message>
        <source>MNIST not found</source>
        <translation>未找到 MNIST</translation>
    </message>
    <message>
        <source>MNIST was not found in any of these places.</source>
        <translation>以下位置都没有找到 MNIST。</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;bngui needs the MNIST digits to train.&lt;/b&gt;&lt;/p&gt;&lt;p&gt;{reason}&lt;/p&gt;&lt;p&gt;Places searched:&lt;/p&gt;&lt;ul&gt;{places}&lt;/ul&gt;&lt;p&gt;Download it (about 11 MB, checked against Keras&apos;s sha256, kept in the Keras cache) or choose a copy: a Keras-layout &lt;code&gt;mnist.npz&lt;/code&gt; or a folder with the four IDX &lt;code&gt;.gz&lt;/code&gt; files.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;bngui 需要 MNIST 手写数字数据才能训练。&lt;/b&gt;&lt;/p&gt;&lt;p&gt;{reason}&lt;/p&gt;&lt;p&gt;已查找的位置：&lt;/p&gt;&lt;ul&gt;{places}&lt;/ul&gt;&lt;p&gt;可以下载（约 11 MB，按 Keras 的 sha256 校验，保存在 Keras 缓存中），或选择已有的副本：Keras 格式的 &lt;code&gt;mnist.npz&lt;/code&gt;，或包含四个 IDX &lt;code&gt;.gz&lt;/code&gt; 文件的文件夹。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Choose .npz file…</source>
        <translation>选择 .npz 文件…</translation>
    </message>
    <message>
        <source>Choose IDX folder…</source>
        <translation>选择 IDX 文件夹…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>{done} of {total} MB</source>
        <translation>{done} / {total} MB</translation>
    </message>
    <message>
        <source>Download failed: {reason}</source>
        <translation>下载失败：{reason}</translation>
    </message>
    <message>
        <source>MNIST .npz file</source>
        <translation>MNIST .npz 文件</translation>
    </message>
    <message>
        <source>NumPy archive (*.npz)</source>
        <translation>NumPy 归档 (*.npz)</translation>
    </message>
    <message>
        <source>Folder with the four MNIST IDX files</source>
        <translation>包含四个 MNIST IDX 文件的文件夹</translation>
    </message>
</context>
<context>
    <name>DigitPreview</name>
    <message>
        <source>What the models see: the drawing cropped to its ink, its longer side scaled to
20 pixels, centred by its centre of mass in a 28x28 field (MNIST&apos;s recipe).</source>
        <translation>模型看到的图像：按笔迹裁剪，长边缩放到 20 像素，
再按质心居中放入 28×28 的画面（MNIST 的制作方法）。</translation>
    </message>
</context>
<context>
    <name>DrawPage</name>
    <message>
        <source>Draw a digit on the black square.
An empty canvas is not a digit: no prediction.</source>
        <translation>请在黑色方框中写一个数字。
空白画布不是数字：不做预测。</translation>
    </message>
    <message>
        <source>No models yet. The shipped models load once TensorFlow is ready; train some (Run → Start) or use File → Load models…</source>
        <translation>还没有模型。TensorFlow 就绪后会加载内置模型；也可以自己训练（运行 → 开始），或使用 文件 → 加载模型…</translation>
    </message>
    <message>
        <source>Loading the models…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Inference with batch statistics (the&#xa0;bug)</source>
        <translation>用批统计量做推理（错误做法）</translation>
    </message>
    <message>
        <source>Off (correct): every model runs in inference mode; batch normalization uses the
population statistics it learned during training.

On (the bug): the batch-normalized models run in training mode on this single
drawing, so each BN layer normalizes it with its own mean and variance. Over one
image the fully connected layer&apos;s variance is zero, its output no longer depends
on the drawing, and every drawing gets the same answer. That is why the notebook
scores 100 test images one at a time. The models&apos; weights are left untouched.</source>
        <translation>关闭（正确）：所有模型都在推理模式下运行；批归一化使用训练中学到的总体统计量。

打开（错误做法）：带批归一化的模型在训练模式下处理这一幅图，
每个 BN 层都用这幅图自身的均值和方差来归一化。只有一幅图时，
全连接层的方差为零，输出不再取决于所写的内容，每幅图都得到同样的答案。
这正是笔记本逐张检验 100 幅测试图像的原因。模型的权重不会被改动。</translation>
    </message>
    <message>
        <source>BN models now normalize this one drawing with its own statistics, as in training: their answers no longer depend on the drawing.</source>
        <translation>BN 模型现在像训练时一样，用这幅图自身的统计量来归一化它：答案不再取决于所写的数字。</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Clear the canvas (Delete)</source>
        <translation>清空画布（Delete）</translation>
    </message>
    <message>
        <source>Undo stroke</source>
        <translation>撤销一笔</translation>
    </message>
    <message>
        <source>Remove the last stroke (Ctrl+Z)</source>
        <translation>删除最后一笔（Ctrl+Z）</translation>
    </message>
    <message>
        <source>Save drawing…</source>
        <translation>保存图像…</translation>
    </message>
    <message>
        <source>Save the drawing as a PNG image (bngui classify reads it)</source>
        <translation>将手写图像保存为 PNG（可供 bngui classify 读取）</translation>
    </message>
    <message>
        <source>Open image…</source>
        <translation>打开图片…</translation>
    </message>
    <message>
        <source>Classify an image file: a scan or a phone photo of a digit on paper (PNG, JPEG, WebP, TIFF, ...). It is turned upright, its lighting evened out and the digit found, as bngui classify does.</source>
        <translation>识别图片文件：纸上数字的扫描件或手机照片（PNG、JPEG、WebP、TIFF 等）。与 bngui classify 一样，会先摆正图片、均匀光照并找到数字。</translation>
    </message>
    <message>
        <source>&lt;b&gt;← What the models see&lt;/b&gt;&lt;br&gt;28 × 28 pixels, enlarged</source>
        <translation>&lt;b&gt;← 模型看到的图像&lt;/b&gt;&lt;br&gt;28 × 28 像素，已放大</translation>
    </message>
    <message>
        <source>&lt;b&gt;Same digit, different company&lt;/b&gt;</source>
        <translation>&lt;b&gt;同一个数字，不同的同批样本&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Loading models from {folder}…</source>
        <translation>正在从 {folder} 加载模型…</translation>
    </message>
    <message>
        <source>There are no trained models to save yet: train first.</source>
        <translation>还没有可保存的已训练模型：请先训练。</translation>
    </message>
    <message>
        <source>Saving models to {folder}…</source>
        <translation>正在将模型保存到 {folder}…</translation>
    </message>
    <message numerus="yes">
        <source>Loaded %n model(s) from {folder}: {models}</source>
        <translation>
            <numerusform>已从 {folder} 加载 %n 个模型：{models}</numerusform>
        </translation>
    </message>
    <message>
        <source>Shipped models: {problems}</source>
        <translation>内置模型：{problems}</translation>
    </message>
    <message>
        <source>Loaded: {loaded}.

Some models could not be loaded:
{problems}</source>
        <translation>已加载：{loaded}。

部分模型无法加载：
{problems}</translation>
    </message>
    <message>
        <source>No models were loaded from {folder}:
{problems}</source>
        <translation>没有从 {folder} 加载任何模型：
{problems}</translation>
    </message>
    <message numerus="yes">
        <source>Saved %n model(s) to {folder}</source>
        <translation>
            <numerusform>已将 %n 个模型保存到 {folder}</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n model(s), {ms} ms</source>
        <translation>
            <numerusform>%n 个模型，{ms} 毫秒</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n model(s), {ms} ms (still drawing)</source>
        <translation>
            <numerusform>%n 个模型，{ms} 毫秒（仍在书写）</numerusform>
        </translation>
    </message>
    <message>
        <source>Open an image of a digit</source>
        <translation>打开一张数字图片</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;所有文件 (*)</translation>
    </message>
    <message>
        <source>No digit was found in that image.</source>
        <translation>这张图片中没有找到数字。</translation>
    </message>
    <message>
        <source>The canvas is empty: draw a digit first.</source>
        <translation>画布是空的：请先写一个数字。</translation>
    </message>
    <message>
        <source>Save drawing</source>
        <translation>保存图像</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>Could not write {path}: {reason}</source>
        <translation>无法写入 {path}：{reason}</translation>
    </message>
    <message>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
</context>
<context>
    <name>Export</name>
    <message>
        <source>the file cannot be written there</source>
        <translation>无法在该位置写入文件</translation>
    </message>
</context>
<context>
    <name>InferenceThread</name>
    <message>
        <source>shipped with bngui</source>
        <translation>bngui 内置</translation>
    </message>
    <message>
        <source>trained in this session</source>
        <translation>本次训练得到</translation>
    </message>
    <message>
        <source>untrained</source>
        <translation>未训练</translation>
    </message>
    <message>
        <source>loaded from {folder}</source>
        <translation>加载自 {folder}</translation>
    </message>
    <message>
        <source>The models cannot run: {reason}</source>
        <translation>模型无法运行：{reason}</translation>
    </message>
    <message>
        <source>The models could not do that: {reason}</source>
        <translation>模型无法完成该操作：{reason}</translation>
    </message>
    <message>
        <source>There are no trained models to save yet: train first.</source>
        <translation>还没有可保存的已训练模型：请先训练。</translation>
    </message>
    <message>
        <source>Could not save the models in {folder}: {reason}</source>
        <translation>无法将模型保存到 {folder}：{reason}</translation>
    </message>
</context>
<context>
    <name>Job</name>
    <message>
        <source>{failure}: {reason}</source>
        <translation>{failure}：{reason}</translation>
    </message>
    <message>
        <source>Unexpected error</source>
        <translation>意外错误</translation>
    </message>
</context>
<context>
    <name>Lesson</name>
    <message>
        <source>A deep plain network is stuck near 10%</source>
        <translation>深层普通网络卡在 10% 左右</translation>
    </message>
    <message>
        <source>Nineteen convolution layers and no batch normalization: the baseline (left) guesses one digit in ten and stays there for all its 800 batches. Its twin with batch normalization (right) starts from its own random weights but sees the same batches in the same order, and passes 90% within a few hundred batches. Depth alone is not the problem; the rest of the lesson asks what normalizing each layer&apos;s input changes.</source>
        <translation>十九个卷积层，没有批归一化：基线（左）十个数字只能猜对一个，整整 800 批都停在那里。加了批归一化的孪生网络（右）从它自己的随机权重出发，但以相同的顺序看到相同的批次，几百批之内就超过 90%。问题不只在于深度；本课接下来要问的是：把每一层的输入归一化，到底改变了什么。</translation>
    </message>
    <message>
        <source>Add batch normalization: four placements</source>
        <translation>加入批归一化：四种放置位置</translation>
    </message>
    <message>
        <source>BN can come before or after the ReLU, and the convolution can keep its bias or drop it. All four placements learn, and they end within a few points of each other. A bias just before BN is wasted: BN subtracts the mean, bias and all, and its own β does the shifting instead. Ioffe and Szegedy put BN right before the nonlinearity, conv → BN → ReLU, the placement the notebook recommends.</source>
        <translation>BN 可以放在 ReLU 之前或之后，卷积可以保留偏置，也可以去掉。四种放置方式都能学会，最终结果相差不过几个百分点。紧挨在 BN 前面的偏置是多余的：BN 减去均值时连偏置一起减掉了，平移改由 BN 自己的 β 来完成。Ioffe 和 Szegedy 把 BN 放在非线性之前，即 conv → BN → ReLU，这也是笔记本推荐的位置。</translation>
    </message>
    <message>
        <source>Keras&apos;s layer and the low-level one</source>
        <translation>Keras 的层与底层实现</translation>
    </message>
    <message>
        <source>The low-level variant writes batch normalization out by hand: tf.nn.moments gives each feature map&apos;s mean and variance over the batch, tf.nn.batch_normalization subtracts, divides and applies γ and β, and the population statistics are moving averages updated at every training step. Its curves follow Keras&apos;s BatchNormalization closely: nothing hidden in the framework&apos;s layer matters here. What differs a little is the initial weights.</source>
        <translation>底层变体亲手写出批归一化：tf.nn.moments 计算每个特征图在批次上的均值和方差，tf.nn.batch_normalization 完成减均值、除以标准差并应用 γ 和 β，总体统计量则是每个训练步都更新的移动平均。它的曲线与 Keras 的 BatchNormalization 非常接近：框架的层里并没有藏着什么起决定作用的东西。略有不同的只是初始权重。</translation>
    </message>
    <message>
        <source>Inference mode: the 100-sample check and two classic bugs</source>
        <translation>推理模式：100 个样本的检查与两个经典错误</translation>
    </message>
    <message>
        <source>In training mode BN normalizes with each batch&apos;s own statistics; in inference mode with the population statistics it gathered while training. Two classic bugs break the second: statistics never updated, and batch statistics at inference. Their training-mode curves (thin lines) look just like the correct model&apos;s. Inference shows them: the first collapses on validation and test, the second on the notebook&apos;s check, 100 test images scored one at a time (the table).</source>
        <translation>训练模式下，BN 用每个批次自身的统计量做归一化；推理模式下，则用训练期间积累的总体统计量。两个经典错误会破坏后者：统计量从未更新，以及推理时使用批统计量。它们在训练模式下的曲线（细线）与正确模型几乎一样。推理模式才让问题暴露：前者在验证集和测试集上崩溃，后者在笔记本的检查中崩溃——100 张测试图像逐张评分（见结果表）。</translation>
    </message>
    <message>
        <source>Inside the network: activations and vanishing gradients</source>
        <translation>网络内部：激活值与梯度消失</translation>
    </message>
    <message>
        <source>Why does the plain network not learn? Top: what one layer&apos;s ReLU receives on a fixed batch of validation images, its 15th, 50th and 85th percentile over training; pick other layers to compare. Below, each layer&apos;s gradient over training: in the baseline the early layers get gradients orders of magnitude smaller than the last ones, so they hardly move. With BN every layer&apos;s input keeps its scale, and the gradient reaches the first layers.</source>
        <translation>普通网络为什么学不会？上方：在一批固定的验证图像上，某一层 ReLU 的输入在训练过程中的第 15、50、85 百分位数；可以选其他层来比较。下方：每一层在训练过程中的梯度。基线网络前几层得到的梯度比最后几层小好几个数量级，因此几乎不动。有了 BN，每一层的输入都保持自己的尺度，梯度也能传到最前面的层。</translation>
    </message>
    <message>
        <source>Draw a digit, and the bug on the canvas</source>
        <translation>手写一个数字，并在画布上重现错误</translation>
    </message>
    <message>
        <source>Draw a digit: every model answers, one row each. The BN models read it; the baseline gives much the same answer whatever you draw. Now tick &quot;Inference with batch statistics&quot;: the BN models normalize this one drawing with its own mean and variance, as in training. Over a single image the last BN layer sees no variance at all, so every drawing gets the same answer. That is why inference must use the population statistics.</source>
        <translation>写一个数字：每个模型各占一行给出答案。BN 模型能认出它；基线不管你写什么，答案都差不多。现在勾选“用批统计量做推理”：BN 模型像训练时那样，用这一张图自己的均值和方差来归一化。只有一张图时，最后一个 BN 层看到的方差为零，于是每张图都得到同一个答案。这正是推理必须使用总体统计量的原因。</translation>
    </message>
    <message>
        <source>Population statistics: precise BN and the lag</source>
        <translation>总体统计量：精确 BN 与滞后</translation>
    </message>
    <message>
        <source>The population statistics are moving averages: at each batch a BN layer keeps a share of them, the BN decay, and takes the rest from the batch. Here three decays train for 400 batches. At 0.999 they remember about 1,000 batches, longer than the run, and lag behind the weights; at 0.9 they follow within ten. Precise BN re-estimates them after training with the weights fixed: compare the table&apos;s precise columns, and each BN layer&apos;s lag in the heatmaps.</source>
        <translation>总体统计量是移动平均：每一批，BN 层保留其中一部分（即 BN 衰减率），其余取自当前批次。这里用三种衰减率各训练 400 批。衰减率为 0.999 时，它们记住约 1000 批，比整个运行还长，于是落后于权重；为 0.9 时，十批之内就能跟上。精确 BN 在训练结束后固定权重、重新估计它们：请对比结果表中的精确 BN 列，以及热力图中每个 BN 层的滞后。</translation>
    </message>
</context>
<context>
    <name>LessonPanel</name>
    <message>
        <source>under a minute</source>
        <translation>不到一分钟</translation>
    </message>
    <message>
        <source>about {minutes} min</source>
        <translation>约 {minutes} 分钟</translation>
    </message>
    <message>
        <source>◀ Previous</source>
        <translation>◀ 上一步</translation>
    </message>
    <message>
        <source>The previous step (Page Up or ←)</source>
        <translation>上一步（Page Up 或 ←）</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>下一步 ▶</translation>
    </message>
    <message>
        <source>The next step (Page Down or →)</source>
        <translation>下一步（Page Down 或 →）</translation>
    </message>
    <message>
        <source>Set up this step</source>
        <translation>设置本步骤</translation>
    </message>
    <message>
        <source>Choose this step&apos;s variants and settings, tab, layout and layer; with a prepared lesson, show the step&apos;s finished run</source>
        <translation>选择本步骤的变体与设置、标签页、布局和层；若课程已预先准备，则显示本步骤已完成的运行</translation>
    </message>
    <message>
        <source>Set up each step as I go</source>
        <translation>翻页时自动设置每一步</translation>
    </message>
    <message>
        <source>Next and Previous (and a presentation clicker) also set the window up for the step</source>
        <translation>“下一步”和“上一步”（以及翻页笔）同时为该步骤设置窗口</translation>
    </message>
    <message>
        <source>Open a prepared lesson…</source>
        <translation>打开预先准备的课程…</translation>
    </message>
    <message>
        <source>A folder written by bngui prepare-lesson: every step&apos;s run, trained before class</source>
        <translation>由 bngui prepare-lesson 生成的文件夹：课前已训练好每一步的运行</translation>
    </message>
    <message>
        <source>Step {number} of {count}</source>
        <translation>第 {number} 步，共 {count} 步</translation>
    </message>
    <message>
        <source>This step needs no run.</source>
        <translation>本步骤不需要运行。</translation>
    </message>
    <message>
        <source>Train this step&apos;s run ({time})</source>
        <translation>训练本步骤的运行（{time}）</translation>
    </message>
    <message>
        <source>Choose this step&apos;s variants and settings and train them now, live</source>
        <translation>选择本步骤的变体与设置，并立即现场训练</translation>
    </message>
    <message>
        <source>Prepared: the step&apos;s finished run is shown.</source>
        <translation>已准备：正在显示本步骤已完成的运行。</translation>
    </message>
    <message>
        <source>Missing from the prepared lesson: train it here, or run bngui prepare-lesson DIR again.</source>
        <translation>预先准备的课程中缺少此运行：可在此训练，或重新运行 bngui prepare-lesson DIR。</translation>
    </message>
    <message>
        <source>Not prepared: train it here, or prepare every step before class with bngui prepare-lesson DIR.</source>
        <translation>尚未准备：可在此训练，或在课前用 bngui prepare-lesson DIR 准备好每一步。</translation>
    </message>
    <message>
        <source>A run is training: its curves stay until it ends.</source>
        <translation>正在训练：其曲线会保留到训练结束。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>bngui will be in {language} the next time it starts. Until then this window stays as it is.</source>
        <translation>bngui 下次启动时，界面语言将切换为：{language}。在此之前，当前窗口保持不变。</translation>
    </message>
    <message>
        <source>bngui: why batch normalization matters</source>
        <translation>bngui：批归一化为什么重要</translation>
    </message>
    <message>
        <source>Experiment</source>
        <translation>实验</translation>
    </message>
    <message>
        <source>Training curves</source>
        <translation>训练曲线</translation>
    </message>
    <message>
        <source>Inside the network</source>
        <translation>网络内部</translation>
    </message>
    <message>
        <source>Draw a digit</source>
        <translation>手写数字</translation>
    </message>
    <message>
        <source>Previous run: the variants or settings have changed since. Start trains the new choice.</source>
        <translation>上一次运行：此后变体或设置已更改。点击“开始”将训练新的选择。</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Loading TensorFlow and MNIST…</source>
        <translation>正在加载 TensorFlow 和 MNIST…</translation>
    </message>
    <message>
        <source>Lesson</source>
        <translation>课程</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Overlay</source>
        <translation>叠加</translation>
    </message>
    <message>
        <source>Four panels, every variant in each (Ctrl+1)</source>
        <translation>四个面板，每个面板显示所有变体（Ctrl+1）</translation>
    </message>
    <message>
        <source>Side by side</source>
        <translation>并排</translation>
    </message>
    <message>
        <source>A column per variant, on shared axes (Ctrl+2)</source>
        <translation>每个变体一列，坐标轴相同（Ctrl+2）</translation>
    </message>
    <message>
        <source>Smoothing</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>Exponential moving average of the training curves; the raw curve stays faint behind</source>
        <translation>训练曲线的指数移动平均；原始曲线以浅色显示在后面</translation>
    </message>
    <message>
        <source>Training batch</source>
        <translation>训练批次</translation>
    </message>
    <message>
        <source>inference mode</source>
        <translation>推理模式</translation>
    </message>
    <message>
        <source>training mode</source>
        <translation>训练模式</translation>
    </message>
    <message>
        <source>How the training curves score the current batch: in inference mode (population statistics, the notebook&apos;s choice) or as the training step itself saw it, with the batch&apos;s own statistics (the table&apos;s Training mode column)</source>
        <translation>训练曲线如何评估当前批次：用推理模式（总体统计量，笔记本的做法），或按训练步骤本身所见，使用该批次自身的统计量（即结果表的“训练模式”列）</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open session…</source>
        <translation>打开会话(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Save session…</source>
        <translation>保存会话(&amp;S)…</translation>
    </message>
    <message>
        <source>Open a prepared l&amp;esson…</source>
        <translation>打开预先准备的课程(&amp;E)…</translation>
    </message>
    <message>
        <source>Export plots as &amp;PNG…</source>
        <translation>导出图表为 &amp;PNG…</translation>
    </message>
    <message>
        <source>Export plots as S&amp;VG…</source>
        <translation>导出图表为 S&amp;VG…</translation>
    </message>
    <message>
        <source>Export plots as P&amp;DF…</source>
        <translation>导出图表为 P&amp;DF…</translation>
    </message>
    <message>
        <source>Export metrics as &amp;CSV…</source>
        <translation>导出指标为 &amp;CSV…</translation>
    </message>
    <message>
        <source>&amp;Load models…</source>
        <translation>加载模型(&amp;L)…</translation>
    </message>
    <message>
        <source>Save &amp;models…</source>
        <translation>保存模型(&amp;M)…</translation>
    </message>
    <message>
        <source>&amp;Get MNIST…</source>
        <translation>获取 MNIST(&amp;G)…</translation>
    </message>
    <message>
        <source>Download MNIST or choose a copy of it.</source>
        <translation>下载 MNIST，或选择已有的副本。</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>开始(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Pause / Resume</source>
        <translation>暂停 / 继续(&amp;P)</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Overlay</source>
        <translation>叠加(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Side by side</source>
        <translation>并排(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Training batch in training mode</source>
        <translation>训练批次用训练模式评估(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Presentation mode</source>
        <translation>演示模式(&amp;P)</translation>
    </message>
    <message>
        <source>Large fonts, lines and controls for a projector</source>
        <translation>适合投影仪的大字体、粗线条和大控件</translation>
    </message>
    <message>
        <source>&amp;Experiment panel</source>
        <translation>实验面板(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Results table</source>
        <translation>结果表(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Lesson panel</source>
        <translation>课程面板(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About bngui</source>
        <translation>关于 bngui(&amp;A)</translation>
    </message>
    <message>
        <source>La&amp;nguage</source>
        <translation>语言(&amp;N)</translation>
    </message>
    <message>
        <source>The window&apos;s language: a new choice takes effect the next time bngui starts</source>
        <translation>界面语言：新的选择在 bngui 下次启动时生效</translation>
    </message>
    <message>
        <source>{language} from the next launch of bngui</source>
        <translation>下次启动 bngui 时切换为：{language}</translation>
    </message>
    <message>
        <source>Choose a copy of MNIST.</source>
        <translation>选择一份 MNIST 副本。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Training needs the MNIST digits.&lt;/b&gt; Download them (about 11 MB) or choose a copy (&lt;i&gt;mnist.npz&lt;/i&gt; or a folder of the IDX files). Meanwhile &lt;b&gt;Draw a digit&lt;/b&gt; already works, with the models shipped with bngui.</source>
        <translation>&lt;b&gt;训练需要 MNIST 手写数字数据。&lt;/b&gt;请下载（约 11 MB）或选择已有的副本（&lt;i&gt;mnist.npz&lt;/i&gt; 或包含 IDX 文件的文件夹）。在此期间，&lt;b&gt;手写数字&lt;/b&gt;已经可以使用 bngui 内置的模型。</translation>
    </message>
    <message>
        <source>Download MNIST</source>
        <translation>下载 MNIST</translation>
    </message>
    <message>
        <source>Choose a file…</source>
        <translation>选择文件…</translation>
    </message>
    <message>
        <source>Preparing the run: building the models and tracing the training step.
With many variants the first points can take a minute.</source>
        <translation>正在准备运行：构建模型并编译训练步骤。
变体较多时，第一批数据点可能需要一分钟。</translation>
    </message>
    <message>
        <source>Training needs MNIST: see the notice above.
Drawing a digit already works (the Draw a digit tab).</source>
        <translation>训练需要 MNIST：请看上方的提示。
手写数字已经可以使用（“手写数字”标签页）。</translation>
    </message>
    <message>
        <source>Loading TensorFlow and MNIST…
Then choose a preset and press Start.</source>
        <translation>正在加载 TensorFlow 和 MNIST…
然后选择一个预设并点击“开始”。</translation>
    </message>
    <message>
        <source>A setting is out of its range: see the field framed in red
in the experiment panel. Correct it, then press Start.</source>
        <translation>有一项设置超出范围：见实验面板中红框标出的输入框。
改正后再按“开始”。</translation>
    </message>
    <message>
        <source>Press Start (Ctrl+Return) to train the ticked variants,
or choose another preset in the experiment panel first.</source>
        <translation>点击“开始”（Ctrl+Return）训练勾选的变体，
或先在实验面板中选择其他预设。</translation>
    </message>
    <message>
        <source>{problem} (and {count} more)</source>
        <translation>{problem}（另有 {count} 项）</translation>
    </message>
    <message>
        <source>MNIST is needed to train</source>
        <translation>训练需要 MNIST</translation>
    </message>
    <message>
        <source>Loading TensorFlow…</source>
        <translation>正在加载 TensorFlow…</translation>
    </message>
    <message>
        <source>Loading MNIST…</source>
        <translation>正在加载 MNIST…</translation>
    </message>
    <message>
        <source>Correct the settings to start</source>
        <translation>请先改正设置</translation>
    </message>
    <message>
        <source>Ready to start</source>
        <translation>可以开始</translation>
    </message>
    <message>
        <source>MNIST not found. Use the notice above or File → Get MNIST… to get it.</source>
        <translation>未找到 MNIST。请通过上方的提示或 文件 → 获取 MNIST… 获取。</translation>
    </message>
    <message>
        <source>Start needs settings in their range: {problem}</source>
        <translation>设置须在允许范围内才能开始：{problem}</translation>
    </message>
    <message>
        <source>Ready · MNIST: {source}</source>
        <translation>就绪 · MNIST：{source}</translation>
    </message>
    <message>
        <source>Cannot start yet: {problem}</source>
        <translation>暂时无法开始：{problem}</translation>
    </message>
    <message>
        <source>Run ended in {seconds} s; keeping its models…</source>
        <translation>运行已在 {seconds} 秒时结束；正在保留其模型…</translation>
    </message>
    <message>
        <source>Stopping: ending the scoring…</source>
        <translation>正在停止：结束评分…</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Compiling the training step…</source>
        <translation>正在编译训练步骤…</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练中</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Scoring validation and test sets…</source>
        <translation>正在评估验证集和测试集…</translation>
    </message>
    <message>
        <source>Precise BN: re-estimating the population statistics…</source>
        <translation>精确 BN：正在重新估计总体统计量…</translation>
    </message>
    <message>
        <source>Preparing the run…</source>
        <translation>正在准备运行…</translation>
    </message>
    <message>
        <source>Run stopped in {seconds} s, not scored</source>
        <translation>运行在 {seconds} 秒后停止，未评分</translation>
    </message>
    <message>
        <source>Run done in {seconds} s</source>
        <translation>运行完成，用时 {seconds} 秒</translation>
    </message>
    <message>
        <source>Scoring the validation set</source>
        <translation>正在评估验证集</translation>
    </message>
    <message>
        <source>Scoring the test set</source>
        <translation>正在评估测试集</translation>
    </message>
    <message>
        <source>Scoring 100 test images one at a time</source>
        <translation>正在逐张评估 100 张测试图像</translation>
    </message>
    <message>
        <source>Precise BN: re-estimating the statistics</source>
        <translation>精确 BN：正在重新估计统计量</translation>
    </message>
    <message>
        <source>Precise BN: scoring the validation set</source>
        <translation>精确 BN：正在评估验证集</translation>
    </message>
    <message>
        <source>Precise BN: scoring the test set</source>
        <translation>精确 BN：正在评估测试集</translation>
    </message>
    <message>
        <source>{part}: {done} of {total}…</source>
        <translation>{part}：{done} / {total}…</translation>
    </message>
    <message>
        <source>bngui plots</source>
        <translation>bngui 图表</translation>
    </message>
    <message>
        <source>Could not write {path}: {reason}</source>
        <translation>无法写入 {path}：{reason}</translation>
    </message>
    <message>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <source>Export plots</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>SVG drawing (*.svg)</source>
        <translation>SVG 矢量图 (*.svg)</translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation>PDF 文档 (*.pdf)</translation>
    </message>
    <message>
        <source>Export metrics</source>
        <translation>导出指标</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>Load models: a folder written by bngui train --out or by Save models</source>
        <translation>加载模型：由 bngui train --out 或“保存模型”写出的文件夹</translation>
    </message>
    <message>
        <source>Save the trained models into a folder</source>
        <translation>将已训练的模型保存到文件夹</translation>
    </message>
    <message>
        <source>Save the session into a new or empty folder (type its name)</source>
        <translation>将会话保存到新的或空的文件夹（输入文件夹名）</translation>
    </message>
    <message>
        <source>Cannot save the session there: {reason}</source>
        <translation>无法将会话保存到该位置：{reason}</translation>
    </message>
    <message>
        <source>Stop the run before opening a session.</source>
        <translation>请先停止运行，再打开会话。</translation>
    </message>
    <message>
        <source>Open a session: a folder saved by bngui or written by bngui train --out</source>
        <translation>打开会话：由 bngui 保存或由 bngui train --out 写出的文件夹</translation>
    </message>
    <message>
        <source>Open a prepared lesson: a folder written by bngui prepare-lesson</source>
        <translation>打开预先准备的课程：由 bngui prepare-lesson 生成的文件夹</translation>
    </message>
    <message>
        <source>Cannot open the lesson: {reason}</source>
        <translation>无法打开课程：{reason}</translation>
    </message>
    <message>
        <source>Some of the lesson&apos;s runs are not prepared: {problems}</source>
        <translation>课程中有些运行尚未准备：{problems}</translation>
    </message>
    <message>
        <source>About bngui</source>
        <translation>关于 bngui</translation>
    </message>
    <message>
        <source>&lt;h3&gt;bngui {version}&lt;/h3&gt;&lt;p&gt;Watch, live, why batch normalization matters: a deep plain network stays at chance while its batch-normalized twins learn.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;bngui {version}&lt;/h3&gt;&lt;p&gt;实时观察批归一化为什么重要：深层的普通网络停留在随机猜测水平，而加了批归一化的同款网络在不断学习。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>The window stays in {language}.</source>
        <translation>界面语言保持为：{language}。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
</context>
<context>
    <name>NetworkView</name>
    <message>
        <source>Statistics appear when training starts: activations at batch 0 and every 100 batches, gradients every 25.</source>
        <translation>开始训练后显示统计量：激活值在第 0 批及之后每 100 批记录一次，梯度每 25 批记录一次。</translation>
    </message>
    <message>
        <source>Latest ‖∇W‖&lt;br&gt;per layer</source>
        <translation>最新的逐层&lt;br&gt;‖∇W‖</translation>
    </message>
    <message>
        <source>log10 variance ratio</source>
        <translation>log10 方差比</translation>
    </message>
    <message>
        <source>Latest variance&lt;br&gt;ratio per BN layer</source>
        <translation>各 BN 层最新的&lt;br&gt;方差比</translation>
    </message>
    <message>
        <source>population / true</source>
        <translation>总体 / 真实</translation>
    </message>
    <message>
        <source>Gradient flow per layer&lt;br&gt;(dark = vanishing; blank = 0 or not finite)</source>
        <translation>逐层梯度流&lt;br&gt;（深色 = 梯度消失；空白 = 0 或非有限值）</translation>
    </message>
    <message>
        <source>BN lag: population / true variance of each BN layer&apos;s input&lt;br&gt;(white = 1: they agree; red: too large; blue: too small)</source>
        <translation>BN 滞后：每个 BN 层输入的总体方差 / 真实方差&lt;br&gt;（白色 = 1：二者一致；红色：偏大；蓝色：偏小）</translation>
    </message>
    <message>
        <source>BN lag: population mean − true mean of each BN layer&apos;s input&lt;br&gt;in true standard deviations (dark: they agree)</source>
        <translation>BN 滞后：每个 BN 层输入的总体均值 − 真实均值&lt;br&gt;以真实标准差为单位（深色：二者一致）</translation>
    </message>
    <message>
        <source>log10 mean shift (σ)</source>
        <translation>log10 均值偏移 (σ)</translation>
    </message>
    <message>
        <source>Latest mean shift&lt;br&gt;per BN layer</source>
        <translation>各 BN 层最新的&lt;br&gt;均值偏移</translation>
    </message>
    <message>
        <source>shift (σ)</source>
        <translation>偏移 (σ)</translation>
    </message>
    <message>
        <source>Gradient flow</source>
        <translation>梯度流</translation>
    </message>
    <message>
        <source>BN lag: variance</source>
        <translation>BN 滞后：方差</translation>
    </message>
    <message>
        <source>BN lag: mean</source>
        <translation>BN 滞后：均值</translation>
    </message>
    <message>
        <source>no BN</source>
        <translation>无 BN</translation>
    </message>
    <message>
        <source>fc (100 units)</source>
        <translation>fc（100 个单元）</translation>
    </message>
    <message>
        <source>conv {number} (first)</source>
        <translation>卷积 {number}（第一层）</translation>
    </message>
    <message>
        <source>conv {number} (middle)</source>
        <translation>卷积 {number}（中间）</translation>
    </message>
    <message>
        <source>conv {number} (last conv)</source>
        <translation>卷积 {number}（最后一个卷积层）</translation>
    </message>
    <message>
        <source>conv {number}</source>
        <translation>卷积 {number}</translation>
    </message>
    <message>
        <source>Same scale for all</source>
        <translation>统一刻度</translation>
    </message>
    <message>
        <source>Link the activation plots&apos; y axes, so their spreads compare directly</source>
        <translation>联动各激活值图的 y 轴，便于直接比较它们的分布范围</translation>
    </message>
    <message>
        <source>Below the activations: the gradient flow per layer, or how far each BN layer&apos;s population statistics (moving averages) are from the true statistics of its input, measured on the probe batch in training mode every 100 batches</source>
        <translation>激活值下方显示：逐层梯度流，或每个 BN 层的总体统计量（移动平均）与其输入的真实统计量相差多远，每 100 批在探测批次上以训练模式测量一次</translation>
    </message>
    <message>
        <source>ReLU input at</source>
        <translation>ReLU 输入位置</translation>
    </message>
    <message>
        <source>Lines: 15th, 50th and 85th percentile on a fixed probe batch, inference mode</source>
        <translation>曲线：固定探测批次上的第 15、50、85 百分位数，推理模式</translation>
    </message>
    <message>
        <source>Heatmaps and profile:</source>
        <translation>热力图与逐层剖面：</translation>
    </message>
    <message>
        <source>batch</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>ReLU input</source>
        <translation>ReLU 输入</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>层</translation>
    </message>
</context>
<context>
    <name>PredictionsWidget</name>
    <message>
        <source>Scores are softmax(logits): the ten bars of a model sum to 100%, and the confidence is the tallest bar.
The models were trained with the notebook&apos;s sigmoid loss, which scores each digit on its own; softmax of the same logits keeps their order and makes models comparable.
`bngui classify` reports the same numbers.</source>
        <translation>分数为 softmax(logits)：每个模型的十根柱子加起来为 100%，置信度即最高的那根柱子。
模型用笔记本中的 sigmoid 损失训练，它对每个数字单独打分；对相同的 logits 取 softmax 保持了排序，并使不同模型可以相互比较。
`bngui classify` 给出的数值与此相同。</translation>
    </message>
    <message>
        <source>batch statistics: the bug</source>
        <translation>批统计量：错误做法</translation>
    </message>
</context>
<context>
    <name>Presets</name>
    <message>
        <source>Notebook: baseline vs BN</source>
        <translation>笔记本：基线 vs BN</translation>
    </message>
    <message>
        <source>Without BN the 19-layer network stays near chance (10%); with BN it passes 90% within a few hundred batches.</source>
        <translation>没有 BN 时，这个 19 层网络停留在随机猜测水平（10%）附近；加上 BN 后，几百批之内就超过 90%。</translation>
    </message>
    <message>
        <source>All four placements (Keras)</source>
        <translation>BN 的四种位置（Keras）</translation>
    </message>
    <message>
        <source>Where BN goes: all four placements learn and end within a few points of each other; a convolution&apos;s bias before BN is redundant.</source>
        <translation>BN 放在哪里：四种位置都能学习，最终结果相差仅几个百分点；BN 之前卷积层的偏置是多余的。</translation>
    </message>
    <message>
        <source>Keras vs low-level</source>
        <translation>Keras vs 底层实现</translation>
    </message>
    <message>
        <source>BN written by hand on tf.nn learns like Keras&apos;s layer: BN is a few lines of arithmetic.</source>
        <translation>用 tf.nn 手写的 BN 与 Keras 的层学得一样好：BN 不过是几行算术。</translation>
    </message>
    <message>
        <source>All ten</source>
        <translation>全部十个</translation>
    </message>
    <message>
        <source>The notebook&apos;s whole comparison: both baselines stay near 10%, all eight BN variants climb past 90%.</source>
        <translation>笔记本的完整对比：两个基线都停留在 10% 附近，八个 BN 变体都超过 90%。</translation>
    </message>
    <message>
        <source>Why inference mode matters</source>
        <translation>推理模式为什么重要</translation>
    </message>
    <message>
        <source>Two BN bugs beside the correct model: in training mode all three look alike; in inference mode (validation, test, 100 single images) the bugs show.</source>
        <translation>两个常见 BN 错误与正确模型对照：在训练模式下三者看起来一样；在推理模式下（验证集、测试集、100 张单独的图像）错误就暴露出来了。</translation>
    </message>
    <message>
        <source>Learning-rate headroom (x10)</source>
        <translation>学习率余量（×10）</translation>
    </message>
    <message>
        <source>Ten times the learning rate: see how BN and the baseline cope; a loss that turns NaN is marked diverged.</source>
        <translation>学习率提高十倍：看看 BN 和基线如何应对；损失变为 NaN 的变体会被标记为已发散。</translation>
    </message>
    <message>
        <source>Population statistics: precise BN and decay</source>
        <translation>总体统计量：精确 BN 与衰减率</translation>
    </message>
    <message>
        <source>BN&apos;s population statistics are moving averages that lag behind the weights: decay 0.999 remembers 1,000 batches and lags most, 0.9 follows in 10. Precise BN re-estimates them after the run; watch the lag under Inside the network and the precise columns of the table.</source>
        <translation>BN 的总体统计量是移动平均，会滞后于权重：衰减率 0.999 记住约 1000 批，滞后最多；0.9 约 10 批就能跟上。精确 BN 在运行结束后重新估计它们；请在“网络内部”中观察滞后，并查看结果表中的精确 BN 列。</translation>
    </message>
    <message>
        <source>Batch size and BN</source>
        <translation>批大小与 BN</translation>
    </message>
    <message>
        <source>The same images in batches of 64, 16 and 4: with small batches BN normalizes with noisy statistics, and training mode and inference mode drift apart; the baseline learns nothing at any size.</source>
        <translation>相同的图像分成 64、16 和 4 张一批：批次较小时，BN 用含噪声的统计量做归一化，训练模式与推理模式的结果逐渐拉开；基线在任何批大小下都学不到东西。</translation>
    </message>
</context>
<context>
    <name>ResultsTable</name>
    <message>
        <source>Accuracy of the latest training batch as the training step sees it, with the batch&apos;s own statistics (training mode). The other scores are in inference mode.</source>
        <translation>训练步骤所见的最新训练批次的准确率，使用该批次自身的统计量（训练模式）。其他分数均为推理模式。</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Training
mode</source>
        <translation>训练
模式</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <source>Accuracy on the validation set at the end, inference mode</source>
        <translation>结束时验证集上的准确率，推理模式</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <source>Accuracy on the test set at the end, inference mode</source>
        <translation>结束时测试集上的准确率，推理模式</translation>
    </message>
    <message>
        <source>100
samples</source>
        <translation>100 个
样本</translation>
    </message>
    <message>
        <source>The first 100 test images scored one at a time, inference mode: the notebook&apos;s check that inference uses the right statistics</source>
        <translation>前 100 张测试图像逐张评估，推理模式：笔记本用来检查推理是否使用了正确统计量的方法</translation>
    </message>
    <message>
        <source>Precise BN
val. / test</source>
        <translation>精确 BN
验证 / 测试</translation>
    </message>
    <message>
        <source>Validation and test accuracy in inference mode after precise BN re-estimated the population statistics with the weights fixed</source>
        <translation>在权重固定的情况下，用精确 BN 重新估计总体统计量后，推理模式下的验证准确率和测试准确率</translation>
    </message>
    <message>
        <source>Seconds</source>
        <translation>秒</translation>
    </message>
    <message>
        <source>Training time of the variant</source>
        <translation>该变体的训练时间</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>diverged</source>
        <translation>已发散</translation>
    </message>
    <message>
        <source>Far below the test accuracy: single images are scored with the wrong statistics (batch statistics at inference, or population statistics never updated).</source>
        <translation>远低于测试准确率：单张图像使用了错误的统计量（推理时用了批统计量，或总体统计量从未更新）。</translation>
    </message>
    <message>
        <source>Far below the training-mode accuracy: in inference the population statistics do not describe the trained network (never updated, or still catching up).</source>
        <translation>远低于训练模式准确率：推理时使用的总体统计量与训练后的网络不符（从未更新，或仍在追赶）。</translation>
    </message>
    <message>
        <source>{points:.1f} points above the moving averages&apos; score: with the same weights, only the population statistics differ; the moving averages lagged behind the training.</source>
        <translation>比移动平均的分数高 {points:.1f} 个百分点：权重相同，只有总体统计量不同；移动平均滞后于训练。</translation>
    </message>
    <message>
        <source>Mean ± standard deviation over {count} seeds; the worst: {worst:.4f} (seed {seed})</source>
        <translation>{count} 个随机种子的均值 ± 标准差；最差：{worst:.4f}（种子 {seed}）</translation>
    </message>
</context>
<context>
    <name>RunBar</name>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Train the ticked variants (Ctrl+Return)</source>
        <translation>训练勾选的变体（Ctrl+Return）</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Pause or resume between two batches (Ctrl+P)</source>
        <translation>在两批之间暂停或继续（Ctrl+P）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>End the run; what was trained stays on screen (Ctrl+.)</source>
        <translation>结束运行；已训练的结果保留在屏幕上（Ctrl+.）</translation>
    </message>
    <message>
        <source>no run yet</source>
        <translation>尚未运行</translation>
    </message>
    <message>
        <source>Loading TensorFlow…</source>
        <translation>正在加载 TensorFlow…</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Start needs settings in their range:</source>
        <translation>设置须在允许范围内才能开始：</translation>
    </message>
    <message>
        <source>batch {done} / {total}</source>
        <translation>第 {done} / {total} 批</translation>
    </message>
    <message>
        <source>{rate:.0f} images/s</source>
        <translation>{rate:.0f} 张/秒</translation>
    </message>
    <message>
        <source>{rate:.0f} images/s · {left} left</source>
        <translation>{rate:.0f} 张/秒 · 剩余 {left}</translation>
    </message>
</context>
<context>
    <name>RunController</name>
    <message>
        <source>Stop the run, or let it finish, before saving the session.</source>
        <translation>请先停止运行或等待其结束，再保存会话。</translation>
    </message>
    <message>
        <source>There is no finished run to save yet: train first, or open a session.</source>
        <translation>还没有可保存的已完成运行：请先训练，或打开一个会话。</translation>
    </message>
    <message>
        <source>A run is in progress.</source>
        <translation>正在运行中。</translation>
    </message>
    <message>
        <source>TensorFlow is still loading.</source>
        <translation>TensorFlow 仍在加载。</translation>
    </message>
    <message>
        <source>MNIST is not loaded.</source>
        <translation>MNIST 尚未加载。</translation>
    </message>
    <message>
        <source>Choose at least one variant to train.</source>
        <translation>请至少选择一个要训练的变体。</translation>
    </message>
    <message>
        <source>TensorFlow could not be loaded</source>
        <translation>无法加载 TensorFlow</translation>
    </message>
    <message>
        <source>Compiling ahead failed</source>
        <translation>预先编译失败</translation>
    </message>
    <message>
        <source>Training failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <source>Cannot save the session</source>
        <translation>无法保存会话</translation>
    </message>
    <message>
        <source>Session saved to {folder}</source>
        <translation>会话已保存到 {folder}</translation>
    </message>
    <message>
        <source>Saving the session to {folder}…</source>
        <translation>正在将会话保存到 {folder}…</translation>
    </message>
    <message>
        <source>Stop the run before opening a session.</source>
        <translation>请先停止运行，再打开会话。</translation>
    </message>
    <message>
        <source>Cannot open the session</source>
        <translation>无法打开会话</translation>
    </message>
    <message>
        <source>Opening the session {folder}…</source>
        <translation>正在打开会话 {folder}…</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>unfinished</source>
        <translation>未完成</translation>
    </message>
    <message numerus="yes">
        <source>Opened the session {folder} (%n variant(s), run {status}, saved {saved})</source>
        <translation>
            <numerusform>已打开会话 {folder}（%n 个变体，运行{status}，保存于 {saved}）</numerusform>
        </translation>
    </message>
    <message>
        <source>The curves are shown, but some models could not be loaded:
{problems}</source>
        <translation>曲线已显示，但部分模型无法加载：
{problems}</translation>
    </message>
    <message>
        <source>The curves are shown, but none of the models could be loaded:
{problems}</source>
        <translation>曲线已显示，但所有模型都无法加载：
{problems}</translation>
    </message>
</context>
<context>
    <name>SetupPanel</name>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>Ready-made comparisons: the variants and the settings their lesson needs. Ticking other variants makes it Custom.</source>
        <translation>现成的对比实验：包含所需的变体及其结论所依赖的设置。勾选其他变体后会变为“自定义”。</translation>
    </message>
    <message>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Set the preset&apos;s own settings again</source>
        <translation>重新应用该预设自己的设置</translation>
    </message>
    <message>
        <source>Variants and hyperparameters</source>
        <translation>变体与超参数</translation>
    </message>
    <message>
        <source>Hyperparameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <source>Training batches per variant (the notebook: 800)</source>
        <translation>每个变体的训练批数（笔记本：800）</translation>
    </message>
    <message>
        <source>Adam&apos;s learning rate (the notebook: 0.002)</source>
        <translation>Adam 的学习率（笔记本：0.002）</translation>
    </message>
    <message>
        <source>sigmoid cross-entropy on one-hot labels (the notebook&apos;s)</source>
        <translation>基于 one-hot 标签的 sigmoid 交叉熵（笔记本的做法）</translation>
    </message>
    <message>
        <source>softmax cross-entropy</source>
        <translation>softmax 交叉熵</translation>
    </message>
    <message>
        <source>The same seed gives the same initial weights and batches</source>
        <translation>相同的随机种子给出相同的初始权重和批次</translation>
    </message>
    <message>
        <source>Train the same run once per seed (the seed, then the next ones) and show each variant&apos;s mean with its range over the seeds: one run is one draw</source>
        <translation>对每个随机种子（当前种子及其后的种子）各训练一次，并显示每个变体在各种子上的均值及范围：一次运行只是一次抽样</translation>
    </message>
    <message>
        <source>Batches</source>
        <translation>批数</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>损失函数</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Repeat over seeds</source>
        <translation>多种子重复</translation>
    </message>
    <message>
        <source>Batch normalization</source>
        <translation>批归一化</translation>
    </message>
    <message>
        <source>How much of its population statistics a BN layer keeps at each training batch.</source>
        <translation>BN 层在每个训练批次中保留多少原有的总体统计量。</translation>
    </message>
    <message>
        <source>Keras&apos;s momentum 0.99 is PyTorch&apos;s momentum 0.01: about 100 batches of memory (0.9: 10, 0.999: 1,000).</source>
        <translation>Keras 的 momentum 0.99 相当于 PyTorch 的 momentum 0.01：约记住 100 批（0.9：10 批，0.999：1000 批）。</translation>
    </message>
    <message>
        <source>After the run, re-estimate every BN layer&apos;s population statistics over this many training batches with the weights fixed (precise BN) and score again; 0: no</source>
        <translation>运行结束后，在权重固定的情况下用这么多个训练批次重新估计每个 BN 层的总体统计量（精确 BN）并再次评估；0：不做</translation>
    </message>
    <message>
        <source>Augment the training batches</source>
        <translation>训练批次数据增强</translation>
    </message>
    <message>
        <source>Shift, rotate, scale, shear, thicken or thin and bend every training batch at random, the same way for every variant (off in the notebook)</source>
        <translation>对每个训练批次随机平移、旋转、缩放、错切、加粗或变细以及弯曲，所有变体采用相同的变换（笔记本中未开启）</translation>
    </message>
    <message>
        <source>BN decay</source>
        <translation>BN 衰减率</translation>
    </message>
    <message>
        <source>Precise BN batches</source>
        <translation>精确 BN 批数</translation>
    </message>
    <message>
        <source>{name}: {low} to {high} with {count} seeds</source>
        <translation>{name}：{count} 个种子时为 {low} 到 {high}</translation>
    </message>
    <message>
        <source>{name}: {low} to {high}</source>
        <translation>{name}：{low} 到 {high}</translation>
    </message>
    <message>
        <source>{name}: a whole number from {low} to {high}</source>
        <translation>{name}：{low} 到 {high} 之间的整数</translation>
    </message>
    <message>
        <source>{name}: a number from {low} to {high}</source>
        <translation>{name}：{low} 到 {high} 之间的数</translation>
    </message>
    <message>
        <source>Your own choice of variants.</source>
        <translation>你自己选择的变体。</translation>
    </message>
    <message>
        <source>batches</source>
        <translation>批数</translation>
    </message>
    <message>
        <source>batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失函数</translation>
    </message>
    <message>
        <source>augmentation</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <source>Modified: {fields} differ from the preset&apos;s.</source>
        <translation>已修改：{fields}与预设不同。</translation>
    </message>
    <message>
        <source>, </source>
        <comment>between the names of a list</comment>
        <translation>、</translation>
    </message>
    <message>
        <source>Hide the variants and hyperparameters</source>
        <translation>隐藏变体与超参数</translation>
    </message>
    <message>
        <source>Show the variants and hyperparameters</source>
        <translation>显示变体与超参数</translation>
    </message>
</context>
<context>
    <name>VariantList</name>
    <message>
        <source>Variants</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>Click to hide or show, point to highlight.</source>
        <translation>点击可隐藏或显示，鼠标悬停可高亮。</translation>
    </message>
    <message>
        <source>Show all</source>
        <translation>全部显示</translation>
    </message>
</context>
<context>
    <name>VariantNames</name>
    <message>
        <source>Baseline (no BN)</source>
        <translation>基线（无 BN）</translation>
    </message>
    <message>
        <source>Baseline, tf.nn init (no BN)</source>
        <translation>基线，tf.nn 初始化（无 BN）</translation>
    </message>
    <message>
        <source>Keras BN: conv → BN → ReLU</source>
        <translation>Keras BN：卷积 → BN → ReLU</translation>
    </message>
    <message>
        <source>Keras BN: conv+bias → BN → ReLU</source>
        <translation>Keras BN：卷积+偏置 → BN → ReLU</translation>
    </message>
    <message>
        <source>Keras BN: conv+bias → ReLU → BN</source>
        <translation>Keras BN：卷积+偏置 → ReLU → BN</translation>
    </message>
    <message>
        <source>Keras BN: conv → ReLU → BN</source>
        <translation>Keras BN：卷积 → ReLU → BN</translation>
    </message>
    <message>
        <source>tf.nn BN: conv → BN → ReLU</source>
        <translation>tf.nn BN：卷积 → BN → ReLU</translation>
    </message>
    <message>
        <source>tf.nn BN: conv+bias → BN → ReLU</source>
        <translation>tf.nn BN：卷积+偏置 → BN → ReLU</translation>
    </message>
    <message>
        <source>tf.nn BN: conv+bias → ReLU → BN</source>
        <translation>tf.nn BN：卷积+偏置 → ReLU → BN</translation>
    </message>
    <message>
        <source>tf.nn BN: conv → ReLU → BN</source>
        <translation>tf.nn BN：卷积 → ReLU → BN</translation>
    </message>
    <message>
        <source>Pitfall: BN statistics never updated</source>
        <translation>陷阱：BN 统计量从未更新</translation>
    </message>
    <message>
        <source>Pitfall: batch statistics at inference</source>
        <translation>陷阱：推理时使用批统计量</translation>
    </message>
    <message>
        <source>Baseline (no BN), 10x learning rate</source>
        <translation>基线（无 BN），10 倍学习率</translation>
    </message>
    <message>
        <source>Keras BN: conv → BN → ReLU, 10x learning rate</source>
        <translation>Keras BN：卷积 → BN → ReLU，10 倍学习率</translation>
    </message>
    <message>
        <source>Keras BN: conv → BN → ReLU, batches 4x smaller</source>
        <translation>Keras BN：卷积 → BN → ReLU，批次缩小 4 倍</translation>
    </message>
    <message>
        <source>Keras BN: conv → BN → ReLU, batches 16x smaller</source>
        <translation>Keras BN：卷积 → BN → ReLU，批次缩小 16 倍</translation>
    </message>
    <message>
        <source>Baseline (no BN), batches 4x smaller</source>
        <translation>基线（无 BN），批次缩小 4 倍</translation>
    </message>
    <message>
        <source>Baseline (no BN), batches 16x smaller</source>
        <translation>基线（无 BN），批次缩小 16 倍</translation>
    </message>
    <message>
        <source>Keras BN: conv → BN → ReLU, BN decay 0.9</source>
        <translation>Keras BN：卷积 → BN → ReLU，BN 衰减率 0.9</translation>
    </message>
    <message>
        <source>Keras BN: conv → BN → ReLU, BN decay 0.999</source>
        <translation>Keras BN：卷积 → BN → ReLU，BN 衰减率 0.999</translation>
    </message>
    <message>
        <source>Baseline, tf.nn init</source>
        <translation>基线，tf.nn 初始化</translation>
    </message>
    <message>
        <source>Keras conv→BN→ReLU</source>
        <translation>Keras 卷积→BN→ReLU</translation>
    </message>
    <message>
        <source>Keras conv+bias→BN→ReLU</source>
        <translation>Keras 卷积+偏置→BN→ReLU</translation>
    </message>
    <message>
        <source>Keras conv+bias→ReLU→BN</source>
        <translation>Keras 卷积+偏置→ReLU→BN</translation>
    </message>
    <message>
        <source>Keras conv→ReLU→BN</source>
        <translation>Keras 卷积→ReLU→BN</translation>
    </message>
    <message>
        <source>tf.nn conv→BN→ReLU</source>
        <translation>tf.nn 卷积→BN→ReLU</translation>
    </message>
    <message>
        <source>tf.nn conv+bias→BN→ReLU</source>
        <translation>tf.nn 卷积+偏置→BN→ReLU</translation>
    </message>
    <message>
        <source>tf.nn conv+bias→ReLU→BN</source>
        <translation>tf.nn 卷积+偏置→ReLU→BN</translation>
    </message>
    <message>
        <source>tf.nn conv→ReLU→BN</source>
        <translation>tf.nn 卷积→ReLU→BN</translation>
    </message>
    <message>
        <source>BN stats never updated</source>
        <translation>BN 统计量从未更新</translation>
    </message>
    <message>
        <source>Batch stats at inference</source>
        <translation>推理时用批统计量</translation>
    </message>
    <message>
        <source>Baseline, 10× rate</source>
        <translation>基线，10× 学习率</translation>
    </message>
    <message>
        <source>Keras BN, 10× rate</source>
        <translation>Keras BN，10× 学习率</translation>
    </message>
    <message>
        <source>Keras BN, batches ÷4</source>
        <translation>Keras BN，批次 ÷4</translation>
    </message>
    <message>
        <source>Keras BN, batches ÷16</source>
        <translation>Keras BN，批次 ÷16</translation>
    </message>
    <message>
        <source>Baseline, batches ÷4</source>
        <translation>基线，批次 ÷4</translation>
    </message>
    <message>
        <source>Baseline, batches ÷16</source>
        <translation>基线，批次 ÷16</translation>
    </message>
    <message>
        <source>Keras BN, decay 0.9</source>
        <translation>Keras BN，衰减率 0.9</translation>
    </message>
    <message>
        <source>Keras BN, decay 0.999</source>
        <translation>Keras BN，衰减率 0.999</translation>
    </message>
    <message>
        <source>Baseline</source>
        <translation>基线</translation>
    </message>
    <message>
        <source>conv→BN→ReLU</source>
        <translation>卷积→BN→ReLU</translation>
    </message>
    <message>
        <source>conv+bias→BN→ReLU</source>
        <translation>卷积+偏置→BN→ReLU</translation>
    </message>
    <message>
        <source>conv+bias→ReLU→BN</source>
        <translation>卷积+偏置→ReLU→BN</translation>
    </message>
    <message>
        <source>conv→ReLU→BN</source>
        <translation>卷积→ReLU→BN</translation>
    </message>
    <message>
        <source>Statistics never updated</source>
        <translation>统计量从未更新</translation>
    </message>
    <message>
        <source>Batch statistics at inference</source>
        <translation>推理时使用批统计量</translation>
    </message>
    <message>
        <source>Keras BN, 4× smaller batches</source>
        <translation>Keras BN，批次缩小 4 倍</translation>
    </message>
    <message>
        <source>Keras BN, 16× smaller batches</source>
        <translation>Keras BN，批次缩小 16 倍</translation>
    </message>
    <message>
        <source>Baseline, 4× smaller batches</source>
        <translation>基线，批次缩小 4 倍</translation>
    </message>
    <message>
        <source>Baseline, 16× smaller batches</source>
        <translation>基线，批次缩小 16 倍</translation>
    </message>
    <message>
        <source>No batch normalization</source>
        <translation>无批归一化</translation>
    </message>
    <message>
        <source>Keras BatchNormalization</source>
        <translation>Keras BatchNormalization</translation>
    </message>
    <message>
        <source>Low-level BN (tf.nn)</source>
        <translation>底层 BN（tf.nn）</translation>
    </message>
    <message>
        <source>Pitfalls</source>
        <translation>常见陷阱</translation>
    </message>
    <message>
        <source>10× learning rate</source>
        <translation>10 倍学习率</translation>
    </message>
    <message>
        <source>Small batches</source>
        <translation>小批次</translation>
    </message>
    <message>
        <source>BN decay (the notebook: 0.99)</source>
        <translation>BN 衰减率（笔记本：0.99）</translation>
    </message>
    <message>
        <source>No BN</source>
        <translation>无 BN</translation>
    </message>
    <message>
        <source>Keras BN</source>
        <translation>Keras BN</translation>
    </message>
    <message>
        <source>tf.nn BN</source>
        <translation>tf.nn BN</translation>
    </message>
    <message>
        <source>BN decay</source>
        <translation>BN 衰减率</translation>
    </message>
    <message>
        <source>BN, trained for drawing: {batches} batches, augmented</source>
        <translation>BN 手写专用：训练 {batches} 批，含数据增强</translation>
    </message>
    <message>
        <source>{label} (precise BN)</source>
        <translation>{label}（精确 BN）</translation>
    </message>
    <message>
        <source>BN for drawing</source>
        <translation>BN 手写专用</translation>
    </message>
</context>
<context>
    <name>VariantRow</name>
    <message>
        <source>{label}
Click to hide or show its curves; point at it to highlight them.</source>
        <translation>{label}
点击可隐藏或显示其曲线；鼠标悬停可高亮。</translation>
    </message>
    <message>
        <source>{label}, hidden</source>
        <translation>{label}，已隐藏</translation>
    </message>
</context>
</TS>
